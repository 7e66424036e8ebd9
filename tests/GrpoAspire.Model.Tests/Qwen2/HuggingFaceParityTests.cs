using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Safetensors;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Qwen2;

/// <summary>Logits, padded logits, greedy ids and token log-probs equal transformers' on both shared fixtures.</summary>
public sealed class HuggingFaceParityTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Fixtures() => new() { "qwen2-tiny-tied", "qwen2-tiny-untied" };

    private static (Qwen2ForCausalLM Model, Dictionary<string, Tensor> Expected) Load(string fixture)
    {
        var folder = Path.Combine(SharedPaths.HfQwen2, fixture);
        return (Qwen2Checkpoint.Load(folder), SafetensorsIndex.LoadStateDict(Path.Combine(folder, "expected.safetensors")));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void LogitsMatchTransformers(string fixture)
    {
        using var scope = NewDisposeScope();
        var (model, expected) = Load(fixture);
        using var noGrad = no_grad();
        var ids = expected["input_ids"];
        var positions = arange(ids.shape[1], dtype: ScalarType.Int64).unsqueeze(0).expand(ids.shape[0], -1);
        var difference = (model.Forward(ids, positions) - expected["logits"]).abs().max().item<float>();
        Assert.True(difference < Tolerance, $"max |logit difference| {difference}");
        model.Dispose();
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void LeftPaddedLogitsMatchTransformersWhereTheMaskIsOne(string fixture)
    {
        using var scope = NewDisposeScope();
        var (model, expected) = Load(fixture);
        using var noGrad = no_grad();
        var mask = expected["padded_attention_mask"];
        var logits = model.Forward(expected["padded_input_ids"], AttentionMask.PositionIds(mask), mask);
        var valid = mask.to(ScalarType.Bool).unsqueeze(-1);
        var difference = (logits - expected["padded_logits"]).abs().masked_fill(valid.logical_not(), 0).max().item<float>();
        Assert.True(difference < Tolerance, $"max |padded logit difference| {difference}");
        model.Dispose();
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void GreedyIdsMatchTransformersGenerate(string fixture)
    {
        using var scope = NewDisposeScope();
        var (model, expected) = Load(fixture);
        var ids = expected["input_ids"];
        var greedy = expected["greedy_ids"];
        var newTokens = (int)(greedy.shape[1] - ids.shape[1]);
        var prompts = Enumerable.Range(0, (int)ids.shape[0])
            .Select(r => (IReadOnlyList<int>)ids[r].data<long>().Select(x => (int)x).ToArray()).ToArray();
        var eos = model.Config.EosTokenIds;
        var results = new Sampler(model).Generate(prompts, new SamplingParams { Temperature = 0, MaxNewTokens = newTokens, EosTokenIds = eos });
        for (var row = 0; row < prompts.Length; row++)
        {
            var expectedNew = greedy[row].data<long>().Skip(prompts[row].Count).Select(x => (int)x).ToArray();
            // transformers pads a row that ended early with the end-of-sequence id (pad_token_id is unset).
            var actual = results[row].TokenIds.Concat(Enumerable.Repeat(eos.FirstOrDefault(), newTokens - results[row].TokenIds.Length));
            Assert.Equal(expectedNew, actual);
        }

        model.Dispose();
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TokenLogProbsMatchTransformers(string fixture)
    {
        using var scope = NewDisposeScope();
        var (model, expected) = Load(fixture);
        using var noGrad = no_grad();
        var ids = expected["input_ids"];
        var length = ids.shape[1];
        var positions = arange(length, dtype: ScalarType.Int64).unsqueeze(0).expand(ids.shape[0], -1);
        var hidden = model.model.Forward(ids, positions).narrow(1, 0, length - 1);
        var logProbs = TokenLogProbs.FromHidden(hidden, model.OutputWeight, ids.narrow(1, 1, length - 1), 1.0, chunkTokens: 7);
        var difference = (logProbs - expected["token_logprobs"]).abs().max().item<float>();
        Assert.True(difference < Tolerance, $"max |log-prob difference| {difference}");
        model.Dispose();
    }
}
