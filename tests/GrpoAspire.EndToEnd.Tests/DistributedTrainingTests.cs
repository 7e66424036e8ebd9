using System.Text.Json;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using StackExchange.Redis;

namespace GrpoAspire.EndToEnd.Tests;

[CollectionDefinition(nameof(EndToEnd), DisableParallelization = true)]
public sealed class EndToEnd;

/// <summary>GRPO steps through the three services and Redis (their faults: GrpoAspire.Faults.Tests).</summary>
[Collection(nameof(EndToEnd))]
public sealed class DistributedTrainingTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task TwoStepsRunThroughRedisAndTheReplicaEndsWithTheTrainersWeightsInOneTrace()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 2, saveSteps: 1));
        await cluster.StartTrainerAsync();
        // Its pulls split over two streams and connections (the default is one; other tests take that path).
        var replica = await cluster.StartReplicaAsync("replica-a", new() { ["Generation__WeightStreams"] = "2" });

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
        Assert.Equal(32, status.WeightsChecksum.Length);
        Assert.Contains("now serving weights version 2 of trainer incarnation", replica.Log, StringComparison.Ordinal);
        Assert.Contains("bytes over 2 stream(s)", replica.Log, StringComparison.Ordinal);

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
}
