using System.Diagnostics;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Sampling;

/// <summary>
/// Our custom autograd functions (chunked log-probs, checkpointed decoder layers) free what their backward makes. On a
/// GPU the autograd engine runs a backward on its own thread, outside any dispose scope of ours, so a tensor a backward
/// leaves behind is freed only by the garbage collector, which GPU memory pressure never wakes: the seed's 3B step ran
/// a 141 GB H200 out of memory that way (1.2 GB float32 weight gradient and the layers' saved inputs, per micro-batch).
/// On a CPU the engine runs the backward on the calling thread, so a scope around backward() catches every tensor a
/// backward leaves outside scopes of its own: only the engine's handle on the incoming gradient and the gradients
/// handed back may remain. One test measures the process's resident memory, so the class runs with the other RSS
/// measurements, alone (a test running beside it moved the number past its bound in CI: 163 MB against 150).
/// </summary>
[Collection(nameof(MemoryStabilityTests))]
public sealed class CustomBackwardScopeTests
{
    private static int LeftByBackward(bool checkpointing)
    {
        using var outer = NewDisposeScope();
        using var model = TinyModels.Random(seed: 3, tied: false);
        model.train();
        model.GradientCheckpointing = checkpointing;
        var ids = randint(0, 96, [2, 7], dtype: ScalarType.Int64, generator: new Generator(5));
        var positions = arange(7, dtype: ScalarType.Int64).unsqueeze(0).expand(2, 7);
        var targets = randint(0, 96, [2, 7], dtype: ScalarType.Int64, generator: new Generator(6));
        var hidden = model.model.Forward(ids, positions);
        var loss = TokenLogProbs.FromHidden(hidden, model.OutputWeight, targets, 1.0, chunkTokens: 4).sum();
        using var around = NewDisposeScope();
        loss.backward();
        return around.DisposablesCount;
    }

    [Fact]
    public void ChunkedLogProbsBackwardLeavesOnlyItsGradients()
    {
        // The incoming gradient's handle and the two gradients returned (hidden states, output weight).
        Assert.InRange(LeftByBackward(checkpointing: false), 0, 3);
    }

    [Fact]
    public void CheckpointedLayersBackwardLeavesOnlyTheirGradients()
    {
        // The same, plus per checkpointed layer (2) its incoming gradient's handle and the input gradient it returns.
        Assert.InRange(LeftByBackward(checkpointing: true), 0, 3 + (2 * 2));
    }

    [Fact]
    public void EngineHandlesReleaseFreesWhatABackwardOnAThreadWithoutScopesLeftBehind()
    {
        // As on a GPU, where the engine runs our backward on its own thread: here the backward runs on a thread with no
        // dispose scope, so each output-weight gradient it returns (64 MB) lives until its wrapper is finalized.
        using var scope = NewDisposeScope();
        var weight = randn([16_000, 1_024], generator: new Generator(1)).requires_grad_();
        var hidden = randn([2, 4, 1_024], generator: new Generator(2)).requires_grad_();
        var targets = randint(0, 16_000, [2, 4], dtype: ScalarType.Int64, generator: new Generator(3));
        void Backwards(int count)
        {
            var thread = new Thread(() =>
            {
                for (var i = 0; i < count; i++)
                {
                    TokenLogProbs.FromHidden(hidden, weight, targets).sum().backward();
                }
            });
            thread.Start();
            thread.Join();
        }

        Backwards(1);
        EngineHandles.ReleaseNow();
        var baseline = ResidentBytes();
        Backwards(8);
        var leftBehind = ResidentBytes() - baseline;
        EngineHandles.ReleaseNow();
        var afterRelease = ResidentBytes() - baseline;

        // Eight gradients are 512 MB; a collection that ran on its own during the loop may have freed some already.
        Assert.True(afterRelease < 150_000_000, $"{afterRelease / 1e6:F0} MB still held after Release ({leftBehind / 1e6:F0} MB before it)");
    }

    private static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
