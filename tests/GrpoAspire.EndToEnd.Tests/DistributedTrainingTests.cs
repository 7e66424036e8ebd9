using System.Text.Json;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using StackExchange.Redis;

namespace GrpoAspire.EndToEnd.Tests;

[CollectionDefinition(nameof(EndToEnd), DisableParallelization = true)]
public sealed class EndToEnd;

/// <summary>GRPO steps through the three services and Redis, replicas and the trainer dying on the way.</summary>
[Collection(nameof(EndToEnd))]
public sealed class DistributedTrainingTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task TwoStepsRunThroughRedisAndTheReplicaEndsWithTheTrainersWeightsInOneTrace()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 2, saveSteps: 1));
        await cluster.StartTrainerAsync();
        var replica = await cluster.StartReplicaAsync("replica-a");

        var status = await cluster.WaitForTrainerAsync(RunTimeout, "finished");
        Assert.Equal(2, status.Step);
        Assert.Equal(2, status.PolicyVersion);
        Assert.Equal([1, 2], cluster.MetricSteps());

        // The replica pulls version 2 after the last step: its weights equal the trainer's.
        var generation = cluster.GenerationClient(replica);
        GetGenerationStatusResponse served;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            served = await generation.GetGenerationStatusAsync(new GetGenerationStatusRequest());
            if (served.PolicyVersion == 2)
            {
                break;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Equal(2, served.PolicyVersion);
        Assert.Equal(status.WeightsChecksum, served.WeightsChecksum);
        Assert.Equal(64, status.WeightsChecksum.Length);

        // Rollouts went through Redis: 4 groups a step, each sampled with the weights of the step before (on-policy).
        var entries = await cluster.Connection.GetDatabase().StreamRangeAsync(new RunKeys(cluster.Run).Rollouts);
        var groups = entries.Select(e => RolloutGroup.Parser.ParseFrom((byte[])e.Values.Single(v => v.Name == "m").Value!)).ToArray();
        Assert.Equal(8, groups.Select(g => g.JobId).Distinct().Count());
        Assert.All(groups, g => Assert.Equal(g.Step - 1, g.PolicyVersion));
        Assert.All(groups, g => Assert.Equal("replica-a", g.Replica));
        Assert.All(groups.SelectMany(g => g.Samples), s => Assert.Equal(2, s.Rewards.Count));

        // One trace per step holds spans of all three services.
        var spans = Directory.GetFiles(cluster.TraceFolder, "*.jsonl").SelectMany(File.ReadAllLines)
            .Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var stepTraces = spans.Where(s => s.GetProperty("name").GetString() == "trainer.step").Select(s => s.GetProperty("trace_id").GetString()).ToHashSet();
        Assert.Equal(2, stepTraces.Count);
        foreach (var trace in stepTraces)
        {
            var inTrace = spans.Where(s => s.GetProperty("trace_id").GetString() == trace).ToArray();
            var services = inTrace.Select(s => s.GetProperty("service").GetString()).ToHashSet();
            Assert.True(services.SetEquals(["trainer", "replica-a", "reward"]), $"trace {trace} has spans of {string.Join(", ", services)}");
            var names = inTrace.Select(s => s.GetProperty("name").GetString()).ToHashSet();
            Assert.Superset(new HashSet<string?> { "trainer.step", "trainer.generate", "generation.rollouts", "trainer.optimize", "weights.sync" }, names);
        }
    }

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

    [Fact]
    public async Task WeightAndControlCallsWithoutTheTokenAreRefused()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 1, saveSteps: 1));
        await cluster.StartTrainerAsync();
        await cluster.StartReplicaAsync("replica-a");
        await cluster.WaitForTrainerAsync(RunTimeout, "finished");

        var weights = new WeightsService.WeightsServiceClient(cluster.Channel(cluster.Trainer!));
        var noToken = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = weights.GetWeights(new GetWeightsRequest { Version = 1 });
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.PermissionDenied, noToken.StatusCode);

        var wrongToken = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = weights.GetWeights(new GetWeightsRequest { Version = 1 }, new Metadata { { "authorization", "Bearer not-the-token" } });
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.PermissionDenied, wrongToken.StatusCode);

        var trainer = cluster.TrainerClient();
        var stop = await Assert.ThrowsAsync<RpcException>(async () => await trainer.StopTrainingAsync(new StopTrainingRequest()));
        Assert.Equal(StatusCode.PermissionDenied, stop.StatusCode);
        var checkpoint = await Assert.ThrowsAsync<RpcException>(async () => await trainer.RequestCheckpointAsync(new RequestCheckpointRequest()));
        Assert.Equal(StatusCode.PermissionDenied, checkpoint.StatusCode);
        var evaluation = await Assert.ThrowsAsync<RpcException>(async () =>
            await trainer.RequestEvaluationAsync(new RequestEvaluationRequest(), new Metadata { { "authorization", "Bearer not-the-token" } }));
        Assert.Equal(StatusCode.PermissionDenied, evaluation.StatusCode);

        // With the token, a control call after the run is answered, and refused with the reason.
        var token = new Metadata { { "authorization", "Bearer " + Cluster.Token } };
        var late = await trainer.RequestEvaluationAsync(new RequestEvaluationRequest(), token);
        Assert.False(late.Accepted);
        Assert.Equal("training is finished (step 1)", late.Reason);
        Assert.False((await trainer.StopTrainingAsync(new StopTrainingRequest(), token)).Accepted);

        // The status is open, and the token opens the weights.
        Assert.Equal("finished", (await cluster.TrainerClient().GetTrainerStatusAsync(new GetTrainerStatusRequest())).Status);
        using var authorized = weights.GetWeights(new GetWeightsRequest { Version = 1 }, new Metadata { { "authorization", "Bearer " + Cluster.Token } });
        Assert.True(await authorized.ResponseStream.MoveNext());
        Assert.NotNull(authorized.ResponseStream.Current.Manifest);
    }
}
