using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using StackExchange.Redis;

namespace GrpoAspire.Faults.Tests;

/// <summary>Services killed with SIGKILL mid-run, as a crashed pod or an OOM kill: no group lost, no step lost or repeated.</summary>
public sealed class ProcessKillTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task AReplicaKilledDuringAStepLosesNoGroup()
    {
        // One job per read, longer completions: a replica holds a job long enough to be killed holding it.
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 3, saveSteps: 3, completionTokens: 96, prompts: 6, generations: 4));
        await cluster.StartTrainerAsync();
        var oneAtATime = new Dictionary<string, string> { ["Generation__MaxJobsPerBatch"] = "1" };
        var doomed = await cluster.StartReplicaAsync("replica-doomed", oneAtATime);
        var survivor = await cluster.StartReplicaAsync("replica-survivor", oneAtATime);

        // Kill the doomed replica while it holds a job it has not acknowledged.
        var keys = new RunKeys(cluster.Run);
        var db = cluster.Connection.GetDatabase();
        var killed = false;
        var heldJobs = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!killed && DateTime.UtcNow < deadline)
        {
            try
            {
                var held = await db.StreamPendingMessagesAsync(keys.Jobs, RolloutJobQueue.GroupName, 16, "replica-doomed");
                // Read the held jobs before the kill: an acknowledged job's entry is deleted (XACK then XDEL), so
                // one acknowledged between the pending check and the read is gone and is not a job the kill can lose.
                var ids = new List<string>();
                foreach (var entry in held)
                {
                    var read = await db.StreamRangeAsync(keys.Jobs, entry.MessageId, entry.MessageId);
                    ids.AddRange(read.Select(e => RolloutJob.Parser.ParseFrom((byte[])e.Values.Single(v => v.Name == "m").Value!).JobId));
                }

                if (ids.Count > 0)
                {
                    doomed.Kill();
                    killed = true;
                    heldJobs.AddRange(ids);
                }
            }
            catch (RedisServerException)
            {
                // The group does not exist until the trainer made it.
            }

            await Task.Delay(10);
        }

        Assert.True(killed, "the doomed replica never held a job");
        var status = await cluster.WaitForTrainerAsync(RunTimeout, "finished");
        Assert.Equal(3, status.Step);
        Assert.Equal([1, 2, 3], cluster.MetricSteps());

        // Every job the dead replica held reached the rollout stream: served by the survivor after the kill, unless the
        // doomed replica had published the group already and died between publishing and acknowledging (the kill
        // lands a little after the pending check). Either way no group is lost.
        Assert.NotEmpty(heldJobs);
        var groups = (await db.StreamRangeAsync(keys.Rollouts))
            .Select(e => RolloutGroup.Parser.ParseFrom((byte[])e.Values.Single(v => v.Name == "m").Value!)).ToArray();
        foreach (var job in heldJobs)
        {
            var servedBy = groups.Where(g => g.JobId == job).Select(g => g.Replica).ToHashSet();
            Assert.True(servedBy.Contains(survivor.Name) || servedBy.Contains(doomed.Name),
                $"job {job} held by the killed replica never reached the rollout stream");
        }

        Assert.Equal(18, groups.Select(g => g.JobId).Distinct().Count());
    }

    [Fact]
    public async Task ATrainerKilledAfterACheckpointResumesFromItWithNoStepLostOrRepeated()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 4, saveSteps: 2, completionTokens: 96, prompts: 4, generations: 8));
        await cluster.StartTrainerAsync();
        await cluster.StartReplicaAsync("replica-a");

        var checkpoint2 = Path.Combine(cluster.RunFolder, "checkpoint-2", "trainer_state.json");
        var deadline = DateTime.UtcNow.Add(RunTimeout);
        while (!File.Exists(checkpoint2) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        cluster.Trainer!.Kill();
        Assert.True(File.Exists(checkpoint2), "checkpoint-2 never appeared");
        Assert.False(File.Exists(Path.Combine(cluster.RunFolder, "checkpoint-4", "trainer_state.json")), "the run ended before the trainer could be killed");

        var restarted = await cluster.StartTrainerAsync();
        var status = await cluster.WaitForTrainerAsync(RunTimeout, "finished");
        Assert.Equal(4, status.Step);
        Assert.Contains("step 2 of 4 (resumed)", restarted.Log, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3, 4], cluster.MetricSteps());
    }
}
