using System.Text.Json;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.EndToEnd.Tests;

/// <summary>Off-policy runs through the services: rollouts sampled ahead by a replica, corrected for in the loss.</summary>
[Collection(nameof(EndToEnd))]
public sealed class StalenessTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task WithMaxStalenessTheReplicaSamplesAheadAndStaleTokensAreWeightedByTheirSampler(int maxStaleness)
    {
        await using var cluster = await Cluster.StartAsync(Recipes.CountdownTiny(maxSteps: 5, maxStaleness), ModelResolver.EmbeddedDefaultFolder);
        await cluster.StartTrainerAsync();
        await cluster.StartReplicaAsync("replica-a");

        var status = await cluster.WaitForTrainerAsync(RunTimeout, "finished");
        Assert.Equal(5, status.Step);
        var steps = File.ReadAllLines(Path.Combine(cluster.RunFolder, "metrics.jsonl"))
            .Select(line => JsonSerializer.Deserialize<Dictionary<string, double>>(line)!).ToArray();
        Assert.Equal([1, 2, 3, 4, 5], steps.Select(s => (int)s["step"]));
        Assert.All(steps, s => Assert.InRange(s["staleness/max"], 0, maxStaleness));
        Assert.All(steps, s => Assert.True(s["rollout_wait_seconds"] >= 0 && s["rollout_wait_seconds"] <= s["step_seconds"], $"{s["rollout_wait_seconds"]}"));

        // Step 1 is on-policy: the replica's log-probs are the trainer's, up to float rounding (one weights version, the same kernels).
        Assert.Equal(0, steps[0]["staleness/max"]);
        Assert.True(steps[0]["sampling/sampling_logp_difference/max"] < 1e-3, $"{steps[0]["sampling/sampling_logp_difference/max"]}");

        // Later steps train on rollouts of an older version: their sampler's log-probs differ, and so do the weights from 1.
        var stale = steps.Where(s => s["staleness/max"] >= 1).ToArray();
        Assert.NotEmpty(stale);
        Assert.Contains(stale, s => s["sampling/sampling_logp_difference/max"] > 1e-3);
        Assert.Contains(stale, s => System.Math.Abs(s["sampling/importance_sampling_ratio/max"] - 1) > 1e-3
            || System.Math.Abs(s["sampling/importance_sampling_ratio/min"] - 1) > 1e-3);
    }
}
