using GrpoAspire.Contracts.V1;
using GrpoAspire.Generation.Rollouts;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Generation.Tests;

/// <summary>A replica's continuous batching path (Generation:MaxBatchRows &gt; 0) on a tiny random model.</summary>
public sealed class ContinuousRolloutSamplingTests
{
    private static Qwen2ForCausalLM TinyModel()
    {
        var config = new Qwen2Config
        {
            VocabSize = 300, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4,
            NumKeyValueHeads = 2, TieWordEmbeddings = true, RopeThetaTopLevel = 10000, InitializerRange = 0.2,
        }.Validated();
        var model = new Qwen2ForCausalLM(config, CPU);
        model.InitializeWeights(31);
        model.eval();
        return model;
    }

    private static RolloutJob Job(int index, ulong seed, int maxNewTokens, double temperature = 1.0, int generations = 4) => new()
    {
        JobId = $"1/{index}", Step = 1, PromptIndex = index, NumGenerations = generations,
        PromptTokenIds = { Enumerable.Range(1 + index, 2 + (index % 4)) },
        Sampling = new SamplingSettings { Temperature = temperature, TopP = 1, MaxNewTokens = maxNewTokens, Seed = seed, EosTokenIds = { 258 } },
    };

    [Fact]
    public void JobsThatDifferOnlyInSeedAndLengthShareAContinuousBatch()
    {
        var a = RolloutSampling.ContinuousKey(Job(0, seed: 1, maxNewTokens: 8).Sampling);
        var b = RolloutSampling.ContinuousKey(Job(1, seed: 2, maxNewTokens: 30).Sampling);
        var c = RolloutSampling.ContinuousKey(Job(2, seed: 1, maxNewTokens: 8, temperature: 0.7).Sampling);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void GreedyContinuousBatchingGivesEachJobTheCompletionsOfTheBatchAtOncePath()
    {
        using var model = TinyModel();
        var jobs = Enumerable.Range(0, 6).Select(i => Job(i, seed: (ulong)i, maxNewTokens: 10, temperature: 0)).ToArray();
        var batched = RolloutSampling.Sample(model, jobs, maxBatchSequences: 256);
        var continuous = RolloutSampling.Sample(model, jobs, maxBatchSequences: 256, maxBatchRows: 5);
        for (var i = 0; i < jobs.Length; i++)
        {
            Assert.Same(jobs[i], continuous[i].Job);
            Assert.Equal(batched[i].Sequences.Select(s => s.TokenIds), continuous[i].Sequences.Select(s => s.TokenIds));
        }
    }

    [Fact]
    public void AJobsSamplesDependOnItsSeedNotOnTheJobsBesideIt()
    {
        using var model = TinyModel();
        var jobs = Enumerable.Range(0, 6).Select(i => Job(i, seed: 100 + (ulong)i, maxNewTokens: 4 + (3 * i))).ToArray();
        var together = RolloutSampling.Sample(model, jobs, maxBatchSequences: 256, maxBatchRows: 7);
        var alone = RolloutSampling.Sample(model, [jobs[3]], maxBatchSequences: 256, maxBatchRows: 2);
        Assert.Equal(alone[0].Sequences.Select(s => s.TokenIds), together[3].Sequences.Select(s => s.TokenIds));
        Assert.All(together, (sampled, i) => Assert.All(sampled.Sequences, s => Assert.True(s.TokenIds.Length <= 4 + (3 * i))));
        Assert.Equal(4, together[5].Sequences.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void TheDecodeAttentionGivenReachesTheSampler(int maxBatchRows)
    {
        using var model = TinyModel();
        var jobs = Enumerable.Range(0, 3).Select(i => Job(i, seed: (ulong)i, maxNewTokens: 10, temperature: 0)).ToArray();
        var grouped = RolloutSampling.Sample(model, jobs, 256, maxBatchRows, new DecodeOptions { Loop = DecodeLoopMode.Eager });
        var sdpa = RolloutSampling.Sample(
            model, jobs, 256, maxBatchRows, new DecodeOptions { Loop = DecodeLoopMode.Eager, Attention = DecodeAttentionMode.Sdpa });
        var groupedSequences = grouped.SelectMany(j => j.Sequences).ToArray();
        var sdpaSequences = sdpa.SelectMany(j => j.Sequences).ToArray();
        Assert.Equal(groupedSequences.Select(s => s.TokenIds), sdpaSequences.Select(s => s.TokenIds));
        // Different kernels round differently: log-probs equal to the last bit would mean the option never reached the attention.
        Assert.NotEqual(groupedSequences.SelectMany(s => s.LogProbs), sdpaSequences.SelectMany(s => s.LogProbs));
    }
}
