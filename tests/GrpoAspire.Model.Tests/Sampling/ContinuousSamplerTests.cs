using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Sampling;

public sealed class ContinuousSamplerTests(ITestOutputHelper output)
{
    /// <summary>Prompts of 1 to 13 tokens with their own limits (3 to 17 new tokens): short and long rows mixed.</summary>
    private static readonly (int[] Prompt, int MaxNew)[] Mixed =
    [
        ([5, 6, 7, 8, 9], 12), ([10, 11], 3), ([12], 17), ([13, 14, 15], 5), ([16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28], 9),
        ([29, 30], 14), ([31, 32, 33, 34], 4), ([35, 36, 37, 38, 39, 40, 41], 11), ([42], 6),
    ];

    /// <summary>Largest |log-prob| difference from the sampler alone seen in these tests (float32, CPU); measured ~1e-6.</summary>
    private const double LogProbTolerance = 1e-4;

    private static SamplingRequest[] Requests((int[] Prompt, int MaxNew)[] items, int samples = 1) =>
        items.Select(i => new SamplingRequest(i.Prompt, samples) { MaxNewTokens = i.MaxNew }).ToArray();

    private static GeneratedSequence Alone(Qwen2ForCausalLM model, int[] prompt, SamplingParams parameters) =>
        new Sampler(model).Generate([prompt], parameters)[0];

    private void AssertSameAsAlone(Qwen2ForCausalLM model, ContinuousResults results, (int[] Prompt, int MaxNew)[] items, SamplingParams parameters)
    {
        var worst = 0.0;
        for (var i = 0; i < items.Length; i++)
        {
            var alone = Alone(model, items[i].Prompt, parameters with { MaxNewTokens = items[i].MaxNew });
            foreach (var sequence in results.Sequences[i])
            {
                Assert.Equal(alone.TokenIds, sequence.TokenIds);
                Assert.Equal(alone.FinishReason, sequence.FinishReason);
                worst = Math.Max(worst, alone.LogProbs.Zip(sequence.LogProbs, (a, b) => Math.Abs(a - b)).Max());
            }
        }

        output.WriteLine($"largest log-prob difference from the sampler alone: {worst:E2}; occupancy {results.Stats.MeanOccupancy:F2}");
        Assert.True(worst <= LogProbTolerance, $"log-probs differ by {worst} from the sampler alone");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(1)]
    [InlineData(32)]
    public void GreedyContinuousBatchingGivesEachPromptTheTokensOfTheSamplerAlone(int maxBatchRows)
    {
        using var model = TinyModels.Random(seed: 21);
        var parameters = new SamplingParams { Temperature = 0 };
        var results = new ContinuousSampler(model).Generate(Requests(Mixed), parameters, maxBatchRows);
        AssertSameAsAlone(model, results, Mixed, parameters);
        Assert.Equal(Math.Min(maxBatchRows, Mixed.Length), results.Stats.Rows);
        Assert.Equal(Mixed.Length, results.Stats.Prefills);
    }

    [Fact]
    public void SeveralSamplesOfARequestShareOnePrefillAndGreedyGivesThemTheSameTokens()
    {
        using var model = TinyModels.Random(seed: 22);
        var parameters = new SamplingParams { Temperature = 0 };
        var results = new ContinuousSampler(model).Generate(Requests(Mixed[..4], samples: 3), parameters, maxBatchRows: 5);
        Assert.Equal(4, results.Stats.Prefills);
        Assert.All(results.Sequences, samples => Assert.Equal(3, samples.Count));
        AssertSameAsAlone(model, results, Mixed[..4], parameters);
    }

    [Fact]
    public void RowsEndAtEndOfSequenceAndTheirSlotsGoToWaitingRequests()
    {
        using var model = TinyModels.Random(seed: 23);
        var greedy = Alone(model, Mixed[0].Prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 12 });
        var parameters = new SamplingParams { Temperature = 0, EosTokenIds = [greedy.TokenIds[2]] };
        var results = new ContinuousSampler(model).Generate(Requests(Mixed), parameters, maxBatchRows: 2);
        Assert.Equal(FinishReason.Eos, results.Sequences[0][0].FinishReason);
        Assert.Equal(greedy.TokenIds.Take(3), results.Sequences[0][0].TokenIds);
        AssertSameAsAlone(model, results, Mixed, parameters);
    }

    [Fact]
    public void StopStringsEndARowAsTheyDoInTheSampler()
    {
        using var model = TinyModels.Random(seed: 24);
        static string Decode(IReadOnlyList<int> ids) => string.Concat(ids.Select(i => $"<{i}>"));
        var greedy = new Sampler(model, Decode).Generate([Mixed[0].Prompt], new SamplingParams { Temperature = 0, MaxNewTokens = 12 })[0];
        var parameters = new SamplingParams { Temperature = 0, StopStrings = [$"<{greedy.TokenIds[3]}>"] };
        var results = new ContinuousSampler(model, Decode).Generate(Requests(Mixed), parameters, maxBatchRows: 3);
        for (var i = 0; i < Mixed.Length; i++)
        {
            var alone = new Sampler(model, Decode).Generate([Mixed[i].Prompt], parameters with { MaxNewTokens = Mixed[i].MaxNew })[0];
            Assert.Equal(alone.TokenIds, results.Sequences[i][0].TokenIds);
            Assert.Equal(alone.FinishReason, results.Sequences[i][0].FinishReason);
        }

        Assert.Equal(FinishReason.Stop, results.Sequences[0][0].FinishReason);
    }

    [Fact]
    public void ASeededRequestGetsTheSameSamplesAloneOrAmongOthersWhateverTheRows()
    {
        using var model = TinyModels.Random(seed: 25);
        var parameters = new SamplingParams { Temperature = 1.0, TopP = 0.95, Seed = 7 };
        var sampler = new ContinuousSampler(model);
        var seeded = new SamplingRequest(Mixed[0].Prompt, Samples: 4) { MaxNewTokens = 12, Seed = 99 };
        var alone = sampler.Generate([seeded], parameters, maxBatchRows: 4).Sequences[0];
        var crowded = sampler.Generate([.. Requests(Mixed[1..]), seeded], parameters, maxBatchRows: 3).Sequences[^1];
        var single = sampler.Generate([seeded, .. Requests(Mixed[1..])], parameters, maxBatchRows: 1).Sequences[0];
        Assert.Equal(alone.Select(s => s.TokenIds), crowded.Select(s => s.TokenIds));
        Assert.Equal(alone.Select(s => s.TokenIds), single.Select(s => s.TokenIds));
        Assert.NotEqual(alone[0].TokenIds, alone[1].TokenIds); // each sample has its own stream

        var first = sampler.Generate(Requests(Mixed, samples: 2), parameters, maxBatchRows: 5).Sequences;
        var again = sampler.Generate(Requests(Mixed, samples: 2), parameters, maxBatchRows: 5).Sequences;
        var other = sampler.Generate(Requests(Mixed, samples: 2), parameters with { Seed = 8 }, maxBatchRows: 5).Sequences;
        Assert.Equal(first.SelectMany(r => r.Select(s => s.TokenIds)), again.SelectMany(r => r.Select(s => s.TokenIds)));
        Assert.NotEqual(first.SelectMany(r => r.Select(s => s.TokenIds)), other.SelectMany(r => r.Select(s => s.TokenIds)));
    }

    [Fact]
    public void SampledLogProbsAreTheTemperatureScaledLogSoftmaxOfTheChosenTokens()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Random(seed: 26);
        var results = new ContinuousSampler(model).Generate(Requests(Mixed), new SamplingParams { Temperature = 0.8, Seed = 3 }, maxBatchRows: 4);
        using var noGrad = no_grad();
        for (var i = 0; i < Mixed.Length; i++)
        {
            var prompt = Mixed[i].Prompt;
            var sequence = results.Sequences[i][0];
            var all = prompt.Concat(sequence.TokenIds).Select(t => (long)t).ToArray();
            var ids = tensor(all, [1, all.Length], dtype: ScalarType.Int64);
            var logits = model.Forward(ids, arange(all.Length, dtype: ScalarType.Int64).unsqueeze(0));
            var targets = ids.narrow(1, prompt.Length, sequence.TokenIds.Length);
            var expected = TokenLogProbs.FromLogits(logits.narrow(1, prompt.Length - 1, sequence.TokenIds.Length), targets, 0.8);
            Assert.True(tensor(sequence.LogProbs).unsqueeze(0).allclose(expected, rtol: 1e-4, atol: 1e-5), $"request {i}");
        }
    }

    [Fact]
    public void TopKOfOneSamplesTheGreedyTokens()
    {
        using var model = TinyModels.Random(seed: 27);
        var sampler = new ContinuousSampler(model);
        var greedy = sampler.Generate(Requests(Mixed), new SamplingParams { Temperature = 0 }, maxBatchRows: 4).Sequences;
        var topOne = sampler.Generate(Requests(Mixed), new SamplingParams { Temperature = 1.0, TopK = 1, Seed = 5 }, maxBatchRows: 4).Sequences;
        Assert.Equal(greedy.Select(r => r[0].TokenIds), topOne.Select(r => r[0].TokenIds));
    }

    [Fact]
    public void TheCacheIsFixedByRowsAndCapacityWhateverTheNumberOfRequests()
    {
        using var model = TinyModels.Random(seed: 28);
        var many = Enumerable.Range(0, 40).Select(i => (Mixed[i % Mixed.Length].Prompt, 1 + (i * 7 % 16))).ToArray();
        var results = new ContinuousSampler(model).Generate(Requests(many), new SamplingParams { Temperature = 0 }, maxBatchRows: 4, capacity: 32);
        Assert.Equal(4, results.Stats.Rows);
        Assert.Equal(32, results.Stats.Capacity);
        Assert.Equal(40, results.Sequences.Count);
        // Rows are refilled as they finish: every step but the tail runs all 4 rows.
        Assert.True(results.Stats.MeanOccupancy > 0.85, $"occupancy {results.Stats.MeanOccupancy}");
        Assert.Equal(results.Sequences.Sum(r => r[0].TokenIds.Length) - 40, results.Stats.DecodedRows); // the first token comes from the prefill
    }

    [Fact]
    public void ABfloat16ModelFillsItsSlotCacheInBfloat16AndGivesFiniteLogProbs()
    {
        using var model = TinyModels.Random(seed: 29, dtype: ScalarType.BFloat16);
        var results = new ContinuousSampler(model).Generate(Requests(Mixed), new SamplingParams { Temperature = 1.0, Seed = 4 }, maxBatchRows: 3);
        for (var i = 0; i < Mixed.Length; i++)
        {
            var sequence = results.Sequences[i][0];
            Assert.Equal(Mixed[i].MaxNew, sequence.TokenIds.Length);
            Assert.All(sequence.LogProbs, p => Assert.True(float.IsFinite(p) && p <= 0, $"log-prob {p}"));
        }
    }

    [Fact]
    public void NoRequestsGiveNoResults()
    {
        using var model = TinyModels.Random();
        var results = new ContinuousSampler(model).Generate([], new SamplingParams(), maxBatchRows: 4);
        Assert.Empty(results.Sequences);
        Assert.Equal(0, results.Stats.DecodeSteps);
    }

    [Fact]
    public void BadArgumentsAreRejectedWithTheRequestNamed()
    {
        using var model = TinyModels.Random();
        var sampler = new ContinuousSampler(model);
        var good = Requests(Mixed[..2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Generate(good, new SamplingParams(), maxBatchRows: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Generate(good, new SamplingParams { TopP = 0 }, maxBatchRows: 2));
        Assert.Throws<ArgumentException>(() => sampler.Generate(good, new SamplingParams { StopStrings = ["x"] }, maxBatchRows: 2));
        var empty = Assert.Throws<ArgumentException>(() => sampler.Generate([good[0], new SamplingRequest([])], new SamplingParams(), 2));
        Assert.Contains("request 1", empty.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => sampler.Generate([new SamplingRequest([1], Samples: 0)], new SamplingParams(), 2));
        Assert.Throws<ArgumentException>(() => sampler.Generate([new SamplingRequest([1]) { MaxNewTokens = 0 }], new SamplingParams(), 2));
        var tooLong = Assert.Throws<ArgumentException>(() => sampler.Generate(good, new SamplingParams(), maxBatchRows: 2, capacity: 10));
        Assert.Contains("exceed the capacity 10", tooLong.Message, StringComparison.Ordinal);
    }
}
