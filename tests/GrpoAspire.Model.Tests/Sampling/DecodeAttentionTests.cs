using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Sampling;

/// <summary>Every decode attention, chosen through the samplers' options, gives the logits of full forwards without a cache.</summary>
public sealed class DecodeAttentionTests
{
    private static readonly int[][] Prompts = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14, 15, 16, 17, 18]];

    /// <summary>The eager loop: the fixed and graph loops have one attention of their own, whatever the mode.</summary>
    private static DecodeOptions Eager(DecodeAttentionMode mode) => new() { Loop = DecodeLoopMode.Eager, Attention = mode };

    [Theory]
    [InlineData(DecodeAttentionMode.Grouped)]
    [InlineData(DecodeAttentionMode.Sdpa)]
    [InlineData(DecodeAttentionMode.SdpaStatic)]
    public void CachedDecodeLogProbsEqualFullForwardsForEveryMode(DecodeAttentionMode mode)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Random(seed: 21);
        var results = new Sampler(model, options: Eager(mode)).Generate(Prompts, new SamplingParams { Seed = 5, MaxNewTokens = 12, Temperature = 0.9 });
        using var noGrad = no_grad();
        for (var row = 0; row < Prompts.Length; row++)
        {
            // Reference: one forward over prompt + completion, no cache, no padding.
            var all = Prompts[row].Concat(results[row].TokenIds).Select(t => (long)t).ToArray();
            var ids = tensor(all, [1, all.Length], dtype: ScalarType.Int64);
            var logits = model.Forward(ids, arange(all.Length, dtype: ScalarType.Int64).unsqueeze(0))[0];
            var logProbs = (logits / 0.9).log_softmax(-1);
            for (var i = 0; i < results[row].TokenIds.Length; i++)
            {
                var expected = logProbs[Prompts[row].Length - 1 + i, results[row].TokenIds[i]].item<float>();
                Assert.True(Math.Abs(expected - results[row].LogProbs[i]) < 1e-4, $"{mode}: row {row} token {i}: {results[row].LogProbs[i]} vs {expected}");
            }
        }
    }

    [Theory]
    [InlineData(DecodeAttentionMode.Sdpa)]
    [InlineData(DecodeAttentionMode.SdpaStatic)]
    public void TheSamplerOptionReachesTheDecodeAttention(DecodeAttentionMode mode)
    {
        using var model = TinyModels.Random(seed: 21);
        var parameters = new SamplingParams { Temperature = 0, MaxNewTokens = 16 };
        var grouped = new Sampler(model, options: Eager(DecodeAttentionMode.Grouped)).Generate(Prompts, parameters);
        var other = new Sampler(model, options: Eager(mode)).Generate(Prompts, parameters);
        for (var row = 0; row < Prompts.Length; row++)
        {
            Assert.Equal(grouped[row].TokenIds, other[row].TokenIds);
        }

        // Different kernels round differently: log-probs that agree to the last bit would mean one attention ran for both.
        Assert.NotEqual(grouped.SelectMany(r => r.LogProbs), other.SelectMany(r => r.LogProbs));
    }

    [Fact]
    public void TheContinuousSamplerOptionReachesItsDecodeAttention()
    {
        using var model = TinyModels.Random(seed: 21);
        var requests = Prompts.Select(p => new SamplingRequest(p, 1)).ToArray();
        var parameters = new SamplingParams { Temperature = 0, MaxNewTokens = 16 };
        var grouped = new ContinuousSampler(model, options: Eager(DecodeAttentionMode.Grouped)).Generate(requests, parameters, maxBatchRows: 2).Sequences;
        var sdpa = new ContinuousSampler(model, options: Eager(DecodeAttentionMode.Sdpa)).Generate(requests, parameters, maxBatchRows: 2).Sequences;
        for (var i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(grouped[i][0].TokenIds, sdpa[i][0].TokenIds);
        }

        Assert.NotEqual(grouped.SelectMany(r => r[0].LogProbs), sdpa.SelectMany(r => r[0].LogProbs));
    }
}
