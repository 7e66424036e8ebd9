using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Model.Tests.Sampling;

/// <summary>
/// A cancelled caller stops the samplers at the next decode step. The stop-string decoder runs once per row and step,
/// so it both counts the steps and cancels at a chosen one.
/// </summary>
public sealed class SamplerCancellationTests
{
    private const int CancelAtStep = 5;
    private static readonly SamplingParams Long = new() { Temperature = 0, MaxNewTokens = 200, StopStrings = ["never-in-the-text"] };

    [Theory]
    [InlineData(DecodeLoopMode.Eager)]
    [InlineData(DecodeLoopMode.Fixed)]
    public void TheSamplerStopsAtTheStepAfterItsTokenIsCancelled(DecodeLoopMode loop)
    {
        using var model = TinyModels.Random(seed: 5);
        using var cancel = new CancellationTokenSource();
        var steps = 0;
        var sampler = new Sampler(model, StepCounter(cancel, () => ++steps), new DecodeOptions { Loop = loop });

        Assert.ThrowsAny<OperationCanceledException>(() => sampler.Generate([[5, 6, 7]], Long, cancellationToken: cancel.Token));
        Assert.Equal(CancelAtStep, steps);
    }

    [Fact]
    public void TheContinuousSamplerStopsAtTheStepAfterItsTokenIsCancelled()
    {
        using var model = TinyModels.Random(seed: 5);
        using var cancel = new CancellationTokenSource();
        var steps = 0;
        var sampler = new ContinuousSampler(model, StepCounter(cancel, () => ++steps));

        Assert.ThrowsAny<OperationCanceledException>(
            () => sampler.Generate([new SamplingRequest([5, 6, 7], 1)], Long, maxBatchRows: 1, cancellationToken: cancel.Token));
        Assert.Equal(CancelAtStep, steps);
    }

    [Fact]
    public void ACallCancelledBeforeItStartsSamplesNothing()
    {
        using var model = TinyModels.Random(seed: 5);
        var finished = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => new Sampler(model).Generate(
            [[5, 6, 7]], Long with { StopStrings = [] }, (_, _) => finished++, new CancellationToken(canceled: true)));
        Assert.Equal(0, finished);
    }

    [Fact]
    public void AnUncancelledTokenChangesNothing()
    {
        using var model = TinyModels.Random(seed: 5);
        var parameters = Long with { StopStrings = [], MaxNewTokens = 12 };
        using var cancel = new CancellationTokenSource();
        Assert.Equal(
            new Sampler(model).Generate([[5, 6, 7]], parameters)[0].TokenIds,
            new Sampler(model).Generate([[5, 6, 7]], parameters, cancellationToken: cancel.Token)[0].TokenIds);
    }

    /// <summary>A decoder for stop strings that counts its calls (one per step for one row) and cancels at <see cref="CancelAtStep"/>.</summary>
    private static Func<IReadOnlyList<int>, string> StepCounter(CancellationTokenSource cancel, Func<int> next) => _ =>
    {
        if (next() == CancelAtStep)
        {
            cancel.Cancel();
        }

        return string.Empty;
    };
}
