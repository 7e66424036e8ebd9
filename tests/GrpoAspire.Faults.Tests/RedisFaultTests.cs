using System.Diagnostics;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace GrpoAspire.Faults.Tests;

/// <summary>
/// Redis lost mid-run, as a Redis pod without persistence: SIGKILLed and restarted empty on the same port (jobs,
/// consumer group, rollouts and weights announcement gone), or not restarted at all; and a trainer resumed from a
/// checkpoint older than the version it had announced.
/// </summary>
public sealed class RedisFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    /// <summary>A trainer that would wait 600 s for lost rollouts without the lost-job check, which runs every 2 s here.</summary>
    private static readonly Dictionary<string, string> PatientTrainer = new()
    {
        ["Trainer__RolloutTimeoutSeconds"] = "600",
        ["Trainer__LostJobCheckSeconds"] = "2",
    };

    [Fact]
    public async Task ARedisRestartedEmptyMidRunLosesNoStepAndTheRunFinishesFarWithinTheRolloutTimeout()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 4, saveSteps: 4, completionTokens: 32));
        await cluster.StartTrainerAsync(PatientTrainer);
        var keys = new RunKeys(cluster.Run);

        // Step 1's jobs are queued and nobody serves them yet: the restart surely loses them.
        var deadline = DateTime.UtcNow.Add(RunTimeout);
        while (await cluster.Connection.GetDatabase().StreamLengthAsync(keys.Jobs) < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await cluster.Redis.RestartEmptyAsync();
        var first = Stopwatch.StartNew();
        var replica = await cluster.StartReplicaAsync("replica-a");
        await cluster.WaitForTrainerStepAsync(1, RunTimeout);
        first.Stop();

        // Again with the replica running: it loses its consumer group, and the announcement it follows, mid-run.
        await cluster.WaitForTrainerStepAsync(2, RunTimeout);
        await cluster.Redis.RestartEmptyAsync();
        var second = Stopwatch.StartNew();
        var status = await cluster.WaitForTrainerAsync(RunTimeout, "finished");
        second.Stop();

        output.WriteLine($"step 1 done {first.Elapsed.TotalSeconds:F1} s after the first restart; run finished {second.Elapsed.TotalSeconds:F1} s after the second");
        Assert.Equal(4, status.Step);
        Assert.Equal([1, 2, 3, 4], cluster.MetricSteps());
        Assert.Contains("jobs are gone from Redis", cluster.Trainer!.Log, StringComparison.Ordinal);
        Assert.True(first.Elapsed < TimeSpan.FromSeconds(60) && second.Elapsed < TimeSpan.FromSeconds(90),
            $"step 1 took {first.Elapsed} after the first restart, the rest {second.Elapsed} after the second (rollout timeout 600 s)");
        await AssertReplicaServesTheTrainersWeightsAsync(cluster, replica, status);
    }

    [Fact]
    public async Task ATrainerWhoseRedisStaysDownStopsWithOneClearErrorAndResumesOnceRedisIsBack()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 4, saveSteps: 2, completionTokens: 32));
        var impatient = new Dictionary<string, string>(PatientTrainer) { ["Trainer__RedisOutageSeconds"] = "5", ["Trainer__ExitWhenDone"] = "true" };
        var doomed = await cluster.StartTrainerAsync(impatient);
        var replica = await cluster.StartReplicaAsync("replica-a");
        var checkpoint2 = Path.Combine(cluster.RunFolder, "checkpoint-2", "trainer_state.json");
        var deadline = DateTime.UtcNow.Add(RunTimeout);
        while (!File.Exists(checkpoint2) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await cluster.Redis.KillAsync();
        var clock = Stopwatch.StartNew();
        var code = await doomed.WaitForExitAsync(TimeSpan.FromSeconds(60));
        clock.Stop();

        output.WriteLine($"the trainer exited with code {code} {clock.Elapsed.TotalSeconds:F1} s after Redis was killed");
        Assert.Equal(1, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"the trainer took {clock.Elapsed} to give up on Redis (limit 5 s)");
        Assert.Contains("training failed: Redis was unreachable for ", doomed.Log, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cluster.RunFolder, "checkpoint-4", "trainer_state.json")), "the run ended before Redis was killed");

        await cluster.Redis.RestartEmptyAsync();
        var resumed = await cluster.StartTrainerAsync(PatientTrainer);
        var status = await cluster.WaitForTrainerAsync(RunTimeout, "finished");

        Assert.Equal(4, status.Step);
        Assert.Contains("step 2 of 4 (resumed)", resumed.Log, StringComparison.Ordinal);
        // Steps after checkpoint-2 that the first trainer finished are done again, and logged once.
        Assert.Equal([1, 2, 3, 4], cluster.MetricSteps());
        await AssertReplicaServesTheTrainersWeightsAsync(cluster, replica, status);
    }

    [Fact]
    public async Task ATrainerResumedFromACheckpointOlderThanTheAnnouncedVersionRollsTheReplicasBackToItsWeights()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 5, saveSteps: 2, completionTokens: 96));
        await cluster.StartTrainerAsync(PatientTrainer);
        var replica = await cluster.StartReplicaAsync("replica-a");
        var keys = new RunKeys(cluster.Run);
        var announcer = new WeightAnnouncer(cluster.Connection, keys);
        var deadline = DateTime.UtcNow.Add(RunTimeout);
        while ((await announcer.GetLatestAsync())?.Version is not >= 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        cluster.Trainer!.Kill();
        var crashed = await announcer.GetLatestAsync();
        Assert.True(crashed is { Version: 3 }, $"announced {crashed?.Version} when the trainer was killed; want 3");
        Assert.False(File.Exists(Path.Combine(cluster.RunFolder, "checkpoint-4", "trainer_state.json")), "checkpoint-4 was written before the kill");

        var resumed = await cluster.StartTrainerAsync(PatientTrainer);
        var status = await cluster.WaitForTrainerAsync(RunTimeout, "finished");

        Assert.Equal(5, status.Step);
        Assert.Contains("step 2 of 5 (resumed)", resumed.Log, StringComparison.Ordinal);
        var latest = await announcer.GetLatestAsync();
        Assert.NotEqual(crashed!.Incarnation, latest!.Incarnation);
        Assert.Contains($"now serving weights version 2 of trainer incarnation {latest.Incarnation}", replica.Log, StringComparison.Ordinal);
        await AssertReplicaServesTheTrainersWeightsAsync(cluster, replica, status);
    }

    /// <summary>The replica ends up with the trainer's last weights: its version and checksum (polled: the last pull follows the last step).</summary>
    private static async Task AssertReplicaServesTheTrainersWeightsAsync(Cluster cluster, ServiceProcess replica, GetTrainerStatusResponse trainer)
    {
        var generation = cluster.GenerationClient(replica);
        GetGenerationStatusResponse served;
        var clock = Stopwatch.StartNew();
        do
        {
            served = await generation.GetGenerationStatusAsync(new GetGenerationStatusRequest());
            if (served.PolicyVersion == trainer.PolicyVersion && served.WeightsChecksum == trainer.WeightsChecksum)
            {
                return;
            }

            await Task.Delay(100);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(30));

        Assert.Fail($"replica serves version {served.PolicyVersion} ({served.WeightsChecksum}), trainer {trainer.PolicyVersion} ({trainer.WeightsChecksum}):\n{replica.Log}");
    }
}
