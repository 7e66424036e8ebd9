using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests;

/// <summary>
/// TorchSharp frees a Scalar from its finalizer while a native call may still read it; build/native/scalar_quarantine.c
/// holds disposed Scalars long enough that the call always finishes first.
/// </summary>
public sealed class ScalarLifetimeTests
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void StatsFunction(out ulong held, out ulong released);

    private static string QuarantinePath => AppContext.GetData("GrpoAspire.ScalarQuarantine") as string ?? "not installed";

    [Fact]
    public void TorchSharpDisposesItsScalarsThroughTheQuarantine()
    {
        using var loaded = ones(1);
        Assert.True(File.Exists(QuarantinePath), $"libGrpoScalarQuarantine.so is not in use: {QuarantinePath}");
        var stats = Marshal.GetDelegateForFunctionPointer<StatsFunction>(
            NativeLibrary.GetExport(NativeLibrary.Load(QuarantinePath), "GrpoScalarQuarantine_stats"));
        stats(out var heldBefore, out var releasedBefore);
        for (var i = 0; i < 10; i++)
        {
            using var scalar = (0.5 + i).ToScalar();
        }

        stats(out var heldAfter, out var releasedAfter);
        Assert.True(heldAfter + releasedAfter >= heldBefore + releasedBefore + 10, "disposed Scalars did not reach the quarantine");
    }

    [Fact]
    public void ImplicitScalarsSurviveGarbageCollectionsThatRunDuringTheNativeCall()
    {
        var until = DateTime.UtcNow.AddSeconds(4);
        var collector = new Thread(() =>
        {
            while (DateTime.UtcNow < until)
            {
                GC.Collect(0);
                GC.WaitForPendingFinalizers();
            }
        });
        long calls = 0;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var workers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            using var a = ones(4);
            using var b = ones(4);
            while (DateTime.UtcNow < until && failures.IsEmpty)
            {
                try
                {
                    using var sum = a.add(b); // TorchSharp passes alpha = 1 as a Scalar nothing keeps alive
                    using var half = a * 0.5; // the double becomes such a Scalar too
                    Interlocked.Increment(ref calls);
                }
                catch (ExternalException error)
                {
                    failures.Add(error.Message.Split('\n')[0]);
                }
            }
        })).ToArray();

        collector.Start();
        foreach (var worker in workers)
        {
            worker.Start();
        }

        foreach (var worker in workers)
        {
            worker.Join();
        }

        collector.Join();
        Assert.True(failures.IsEmpty, $"{failures.Count} native calls read a freed Scalar in {calls} calls: {failures.FirstOrDefault()}");
        Assert.True(calls > 10_000, $"only {calls} calls ran");
    }
}
