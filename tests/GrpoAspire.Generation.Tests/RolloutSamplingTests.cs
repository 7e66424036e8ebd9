using GrpoAspire.Contracts.V1;
using GrpoAspire.Generation.Rollouts;

namespace GrpoAspire.Generation.Tests;

/// <summary>How a replica groups a step's jobs into sampler calls (pure logic: no model, no process).</summary>
public sealed class RolloutSamplingTests
{
    private static RolloutJob Job(int index, ulong seed, double temperature = 1.0, int generations = 16) => new()
    {
        JobId = $"1/{index}", Step = 1, PromptIndex = index, NumGenerations = generations, PromptTokenIds = { 1, 2, 3 },
        Sampling = new SamplingSettings { Temperature = temperature, TopP = 1, MaxNewTokens = 8, Seed = seed, EosTokenIds = { 258 } },
    };

    [Fact]
    public void AStepsJobsWithTheirOwnSeedsShareOneSamplerCall()
    {
        // The trainer gives every job its own seed; they must still be sampled together (8 x 16 = 128 sequences).
        var jobs = Enumerable.Range(0, 8).Select(i => Job(i, seed: 1000 + (ulong)i)).ToArray();
        var batches = RolloutSampling.SamplingBatches(jobs, maxSequences: 256).ToArray();
        Assert.Single(batches);
        Assert.Equal(jobs, batches[0]);
    }

    [Fact]
    public void DifferentSettingsOrTheSequenceBoundSplitTheBatch()
    {
        var jobs = new[] { Job(0, 1), Job(1, 2, temperature: 0.7), Job(2, 3), Job(3, 4) };
        var batches = RolloutSampling.SamplingBatches(jobs, maxSequences: 32).ToArray();
        Assert.Equal([["1/0", "1/2"], ["1/3"], ["1/1"]], batches.Select(b => b.Select(j => j.JobId).ToArray()).ToArray());
    }
}
