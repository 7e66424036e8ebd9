using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Sampling;

[CollectionDefinition(nameof(DecodeAttentionModes), DisableParallelization = true)]
public sealed class DecodeAttentionModes;

/// <summary>Every decode attention gives the logits of full forwards without a cache (it is a process-wide switch: run alone).</summary>
[Collection(nameof(DecodeAttentionModes))]
public sealed class DecodeAttentionTests
{
    private static readonly int[][] Prompts = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14, 15, 16, 17, 18]];

    [Theory]
    [InlineData(DecodeAttentionMode.Grouped)]
    [InlineData(DecodeAttentionMode.Sdpa)]
    [InlineData(DecodeAttentionMode.SdpaStatic)]
    public void CachedDecodeLogProbsEqualFullForwardsForEveryMode(DecodeAttentionMode mode)
    {
        var previous = DecodeAttention.Mode;
        DecodeAttention.Mode = mode;
        try
        {
            using var scope = NewDisposeScope();
            using var model = TinyModels.Random(seed: 21);
            var results = new Sampler(model).Generate(Prompts, new SamplingParams { Seed = 5, MaxNewTokens = 12, Temperature = 0.9 });
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
        finally
        {
            DecodeAttention.Mode = previous;
        }
    }
}
