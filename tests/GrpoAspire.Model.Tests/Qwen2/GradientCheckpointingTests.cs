using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Qwen2;

/// <summary>
/// Activation checkpointing changes what is kept, not what is computed: the loss and every parameter's gradient equal
/// those of a plain backward (float32), with and without padding.
/// </summary>
public sealed class GradientCheckpointingTests(ITestOutputHelper output)
{
    /// <summary>Same weights, same inputs: the only difference is the recompute, so float32 agrees to rounding.</summary>
    private const double Tolerance = 1e-6;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LossAndEveryParameterGradientEqualThoseWithoutCheckpointing(bool padded)
    {
        using var model = TinyModels.Random(seed: 3);
        model.train();
        var (plainLoss, plainGrads) = LossAndGradients(model, padded, checkpointing: false);
        var (checkpointedLoss, checkpointedGrads) = LossAndGradients(model, padded, checkpointing: true);

        Assert.Equal(plainLoss, checkpointedLoss, Tolerance);
        Assert.Equal(plainGrads.Keys.Order(), checkpointedGrads.Keys.Order());
        var worst = 0.0;
        foreach (var (name, plain) in plainGrads)
        {
            var checkpointed = checkpointedGrads[name];
            Assert.True(plain.Any(g => g != 0), $"'{name}' has no gradient at all; the test would prove nothing");
            var difference = plain.Zip(checkpointed, (a, b) => Math.Abs(a - b)).Max();
            worst = Math.Max(worst, difference);
            Assert.True(difference <= Tolerance, $"'{name}': gradients differ by {difference:E2} (tolerance {Tolerance:E0})");
        }

        output.WriteLine($"padded={padded}: loss {plainLoss} vs {checkpointedLoss}, largest gradient difference {worst:E2}");
    }

    [Fact]
    public void ForwardsWithoutGradientsAreUnchanged()
    {
        using var model = TinyModels.Random(seed: 4);
        using var scope = NewDisposeScope();
        var (ids, positions, padding) = Batch(padded: true);
        using var noGrad = no_grad();
        var plain = model.Forward(ids, positions, padding);
        model.GradientCheckpointing = true;
        var checkpointed = model.Forward(ids, positions, padding);

        Assert.Equal(plain.data<float>().ToArray(), checkpointed.data<float>().ToArray());
    }

    /// <summary>A GRPO-like loss: masked mean of the chunked token log-probs, the trainer's path.</summary>
    private static (double Loss, Dictionary<string, float[]> Grads) LossAndGradients(Qwen2ForCausalLM model, bool padded, bool checkpointing)
    {
        model.GradientCheckpointing = checkpointing;
        model.zero_grad();
        using var scope = NewDisposeScope();
        var (ids, positions, padding) = Batch(padded);
        var hidden = model.model.Forward(ids, positions, padding); // [B, T, hidden]
        var targets = ids.roll(-1, 1); // [B, T]
        var logProbs = TokenLogProbs.FromHidden(hidden, model.OutputWeight, targets, temperature: 0.7, chunkTokens: 5); // [B, T]
        var mask = padding.to(ScalarType.Float32);
        var loss = -(logProbs * mask).sum() / mask.sum();
        loss.backward();
        var grads = model.named_parameters().ToDictionary(
            p => p.name, p => p.parameter.grad?.data<float>().ToArray() ?? throw new InvalidOperationException($"'{p.name}' has no gradient"));
        return (loss.item<float>(), grads);
    }

    /// <summary>Three sequences of 7 tokens; padded: the first two left-padded by 3 and 1 tokens.</summary>
    private static (Tensor Ids, Tensor Positions, Tensor Padding) Batch(bool padded)
    {
        var generator = new Generator(11);
        var ids = randint(1, 96, [3, 7], dtype: ScalarType.Int64, generator: generator); // [B, T]
        var padding = ones([3, 7], dtype: ScalarType.Int64); // [B, T]
        if (padded)
        {
            padding[0, TensorIndex.Slice(0, 3)] = tensor(0L);
            padding[1, 0] = tensor(0L);
        }

        var positions = (padding.cumsum(1) - 1).clamp_min(0); // [B, T]
        return (ids, positions, padding);
    }
}
