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
/// handed back may remain.
/// </summary>
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
}
