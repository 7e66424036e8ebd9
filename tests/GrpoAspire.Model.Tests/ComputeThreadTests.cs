using System.Diagnostics;

namespace GrpoAspire.Model.Tests;

public sealed class ComputeThreadTests
{
    [Fact]
    public async Task AllWorkRunsOnTheOneThreadWhateverThreadAsksForIt()
    {
        using var compute = new ComputeThread("test-compute");
        var first = await compute.RunAsync(() => Environment.CurrentManagedThreadId);
        var fromPool = await Task.Run(() => compute.RunAsync(() => Environment.CurrentManagedThreadId));
        Assert.Equal(first, fromPool);
        Assert.NotEqual(Environment.CurrentManagedThreadId, first);
    }

    [Fact]
    public async Task AnExceptionComesBackThroughTheTaskAndTheThreadGoesOn()
    {
        using var compute = new ComputeThread("test-compute");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => compute.RunAsync(() => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", error.Message);
        Assert.Equal(2, await compute.RunAsync(() => 1 + 1));
    }

    [Fact]
    public async Task TheCallersCurrentSpanGoesAlong()
    {
        using var source = new ActivitySource("compute-thread-test");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source, Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        using var compute = new ComputeThread("test-compute");
        using var step = source.StartActivity("step");
        var parent = await compute.RunAsync(() =>
        {
            using var inner = source.StartActivity("inner");
            return inner?.ParentId;
        });
        Assert.Equal(step!.Id, parent);
    }
}
