using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Sampling;

public sealed class SamplerTests
{
    private static readonly int[][] Prompts = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14]];

    /// <summary>Greedy continuation by repeated full forwards without a cache: the slow, obvious reference.</summary>
    private static List<int> GreedyWithoutCache(Qwen2ForCausalLM model, IReadOnlyList<int> prompt, int steps)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = prompt.ToList();
        for (var i = 0; i < steps; i++)
        {
            var ids = tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Count], dtype: ScalarType.Int64);
            var positions = arange(tokens.Count, dtype: ScalarType.Int64).unsqueeze(0);
            var logits = model.Forward(ids, positions);
            tokens.Add((int)logits[0, -1].argmax().item<long>());
        }

        return tokens.Skip(prompt.Count).ToList();
    }

    [Fact]
    public void GreedyBatchWithLeftPaddingAndCacheEqualsUnbatchedFullForwards()
    {
        using var model = TinyModels.Random(seed: 11);
        var results = new Sampler(model).Generate(Prompts, new SamplingParams { Temperature = 0, MaxNewTokens = 12 });
        for (var row = 0; row < Prompts.Length; row++)
        {
            Assert.Equal(GreedyWithoutCache(model, Prompts[row], 12), results[row].TokenIds);
            Assert.Equal(FinishReason.Length, results[row].FinishReason);
        }
    }

    [Fact]
    public void SamplingIsReproducibleForASeedAndDiffersAcrossSeeds()
    {
        using var model = TinyModels.Random(seed: 12);
        var sampler = new Sampler(model);
        var first = sampler.Generate(Prompts, new SamplingParams { Seed = 1, MaxNewTokens = 16, TopP = 0.9, TopK = 40 });
        var again = sampler.Generate(Prompts, new SamplingParams { Seed = 1, MaxNewTokens = 16, TopP = 0.9, TopK = 40 });
        var other = sampler.Generate(Prompts, new SamplingParams { Seed = 2, MaxNewTokens = 16, TopP = 0.9, TopK = 40 });
        Assert.Equal(first.Select(r => r.TokenIds), again.Select(r => r.TokenIds));
        Assert.NotEqual(first.Select(r => r.TokenIds), other.Select(r => r.TokenIds));
    }

    [Fact]
    public void SamplingLogProbsAreTheTemperatureScaledLogSoftmaxOfTheChosenTokens()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Random(seed: 13);
        var prompt = Prompts[0];
        var result = new Sampler(model).Generate([prompt], new SamplingParams { Seed = 3, MaxNewTokens = 8, Temperature = 0.8 })[0];
        var all = prompt.Concat(result.TokenIds).Select(t => (long)t).ToArray();
        using var noGrad = no_grad();
        var ids = tensor(all, [1, all.Length], dtype: ScalarType.Int64);
        var logits = model.Forward(ids, arange(all.Length, dtype: ScalarType.Int64).unsqueeze(0));
        var targets = ids.narrow(1, prompt.Length, result.TokenIds.Length);
        var expected = TokenLogProbs.FromLogits(logits.narrow(1, prompt.Length - 1, result.TokenIds.Length), targets, 0.8);
        Assert.True(tensor(result.LogProbs).unsqueeze(0).allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void RowsStopAtEndOfSequenceAndTheRestContinue()
    {
        using var model = TinyModels.Random(seed: 14);
        var greedy = new Sampler(model).Generate(Prompts, new SamplingParams { Temperature = 0, MaxNewTokens = 10 });
        var eos = greedy[1].TokenIds[2]; // the third token of row 1 becomes its end of sequence
        var stopped = new Sampler(model).Generate(Prompts, new SamplingParams { Temperature = 0, MaxNewTokens = 10, EosTokenIds = [eos] });
        Assert.Equal(greedy[1].TokenIds.Take(3), stopped[1].TokenIds);
        Assert.Equal(FinishReason.Eos, stopped[1].FinishReason);
        for (var row = 0; row < Prompts.Length; row++)
        {
            var cut = Array.IndexOf(greedy[row].TokenIds, eos);
            var expected = cut >= 0 ? greedy[row].TokenIds.Take(cut + 1) : greedy[row].TokenIds;
            Assert.Equal(expected, stopped[row].TokenIds);
        }
    }

    [Fact]
    public void EachRowIsReportedOnceAsItFinishesBeforeTheLongerRows()
    {
        using var model = TinyModels.Random(seed: 14);
        var greedy = new Sampler(model).Generate(Prompts, new SamplingParams { Temperature = 0, MaxNewTokens = 10 });
        var eos = greedy[1].TokenIds[2];
        var reported = new List<(int Row, GeneratedSequence Sequence)>();
        var results = new Sampler(model).Generate(
            Prompts, new SamplingParams { Temperature = 0, MaxNewTokens = 10, EosTokenIds = [eos] }, (row, sequence) => reported.Add((row, sequence)));
        Assert.Equal([0, 1, 2], reported.Select(r => r.Row).Order());
        Assert.Equal(1, reported[0].Row); // row 1 ends at its third token, the others run on
        foreach (var (row, sequence) in reported)
        {
            Assert.Equal(results[row].TokenIds, sequence.TokenIds);
            Assert.Equal(results[row].FinishReason, sequence.FinishReason);
        }
    }

    [Fact]
    public void StopStringsEndARowOnceTheDecodedTextHoldsThem()
    {
        using var model = TinyModels.Random(seed: 15);
        static string Decode(IReadOnlyList<int> ids) => string.Concat(ids.Select(i => $"<{i}>"));
        var greedy = new Sampler(model, Decode).Generate([Prompts[0]], new SamplingParams { Temperature = 0, MaxNewTokens = 10 })[0];
        var stop = $"<{greedy.TokenIds[3]}>";
        var stopped = new Sampler(model, Decode).Generate([Prompts[0]], new SamplingParams { Temperature = 0, MaxNewTokens = 10, StopStrings = [stop] })[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.EndsWith(stop, Decode(stopped.TokenIds), StringComparison.Ordinal);
        Assert.True(stopped.TokenIds.Length <= 4);
    }

    [Fact]
    public void BadSamplingParametersAreRejected()
    {
        using var model = TinyModels.Random();
        var sampler = new Sampler(model);
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Generate(Prompts, new SamplingParams { TopP = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Generate(Prompts, new SamplingParams { Temperature = -1 }));
        Assert.Throws<ArgumentException>(() => sampler.Generate([[]], new SamplingParams()));
        Assert.Throws<ArgumentException>(() => sampler.Generate(Prompts, new SamplingParams { StopStrings = ["x"] }));
    }
}
