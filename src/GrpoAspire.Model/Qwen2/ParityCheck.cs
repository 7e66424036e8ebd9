using GrpoAspire.Model.Safetensors;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>How far a model is from reference outputs (an <c>expected.safetensors</c> made with transformers).</summary>
public sealed record ParityReport(
    double MaxLogitDifference,
    double? MaxPaddedLogitDifference,
    double? MaxLogProbDifference,
    bool? GreedyIdsMatch,
    double Tolerance)
{
    public bool Passed =>
        MaxLogitDifference <= Tolerance
        && (MaxPaddedLogitDifference ?? 0) <= Tolerance
        && (MaxLogProbDifference ?? 0) <= Tolerance
        && GreedyIdsMatch != false;
}

/// <summary>
/// Compares a model with reference tensors: <c>input_ids</c> + <c>logits</c> (required), and when present
/// <c>padded_input_ids</c> / <c>padded_attention_mask</c> / <c>padded_logits</c>, <c>greedy_ids</c>, <c>token_logprobs</c>.
/// </summary>
public static class ParityCheck
{
    public static ParityReport Run(Qwen2ForCausalLM model, string expectedFile, double tolerance = 1e-4)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = model.OutputWeight.device;
        var expected = SafetensorsIndex.LoadStateDict(expectedFile, device);
        foreach (var required in new[] { "input_ids", "logits" })
        {
            if (!expected.ContainsKey(required))
            {
                throw new InvalidDataException($"{expectedFile}: needs a tensor '{required}'");
            }
        }

        var ids = expected["input_ids"];
        var positions = arange(ids.shape[1], dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(ids.shape[0], -1);
        var logits = model.Forward(ids, positions).to(ScalarType.Float32);
        var logitDifference = MaxDifference(logits, expected["logits"]);

        double? paddedDifference = null;
        if (expected.TryGetValue("padded_input_ids", out var paddedIds) && expected.TryGetValue("padded_attention_mask", out var mask)
            && expected.TryGetValue("padded_logits", out var paddedLogits))
        {
            var padded = model.Forward(paddedIds, AttentionMask.PositionIds(mask), mask).to(ScalarType.Float32);
            var valid = mask.to(ScalarType.Bool).unsqueeze(-1);
            paddedDifference = (padded - paddedLogits.to(ScalarType.Float32)).abs().masked_fill(valid.logical_not(), 0).max().item<float>();
        }

        double? logProbDifference = null;
        if (expected.TryGetValue("token_logprobs", out var tokenLogProbs))
        {
            var length = ids.shape[1];
            var computed = TokenLogProbs.FromLogits(logits.narrow(1, 0, length - 1), ids.narrow(1, 1, length - 1));
            logProbDifference = MaxDifference(computed, tokenLogProbs);
        }

        bool? greedyMatch = null;
        if (expected.TryGetValue("greedy_ids", out var greedy))
        {
            greedyMatch = GreedyMatches(model, ids, greedy);
        }

        return new ParityReport(logitDifference, paddedDifference, logProbDifference, greedyMatch, tolerance);
    }

    private static double MaxDifference(Tensor a, Tensor b) => (a.to(ScalarType.Float32) - b.to(ScalarType.Float32)).abs().max().item<float>();

    private static bool GreedyMatches(Qwen2ForCausalLM model, Tensor ids, Tensor greedy)
    {
        var prompts = Enumerable.Range(0, (int)ids.shape[0])
            .Select(r => (IReadOnlyList<int>)ids[r].cpu().data<long>().Select(x => (int)x).ToArray()).ToArray();
        var newTokens = (int)(greedy.shape[1] - ids.shape[1]);
        var eos = model.Config.EosTokenIds;
        var results = new Sampler(model).Generate(prompts, new SamplingParams { Temperature = 0, MaxNewTokens = newTokens, EosTokenIds = eos });
        for (var row = 0; row < prompts.Length; row++)
        {
            var expectedNew = greedy[row].cpu().data<long>().Skip(prompts[row].Count).Select(x => (int)x);
            // transformers pads a row that ended early with the end-of-sequence id when pad_token_id is unset.
            var actual = results[row].TokenIds.Concat(Enumerable.Repeat(eos.FirstOrDefault(), newTokens - results[row].TokenIds.Length));
            if (!expectedNew.SequenceEqual(actual))
            {
                return false;
            }
        }

        return true;
    }
}
