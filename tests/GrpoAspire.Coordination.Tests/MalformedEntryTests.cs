using StackExchange.Redis;

namespace GrpoAspire.Coordination.Tests;

public sealed class MalformedEntryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    // Bytes no protobuf parser accepts: a field tag whose varint never ends.
    private static readonly byte[] NotProtobuf = [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

    [Fact]
    public async Task AMalformedJobEntryDoesNotStopReadingAndIsAcknowledged()
    {
        var keys = redis.NewRun();
        var reported = new List<MalformedEntry>();
        var logger = new ListLogger<RolloutJobQueue>();
        var queue = new RolloutJobQueue(redis.Redis, keys, logger: logger, onMalformed: reported.Add);
        await queue.EnqueueAsync([RedisFixture.Job(1, 0)]);
        var garbage = await redis.Db.StreamAddAsync(keys.Jobs, "m", NotProtobuf);
        var noField = await redis.Db.StreamAddAsync(keys.Jobs, "other", "x");
        var noId = await redis.Db.StreamAddAsync(keys.Jobs, "m", Array.Empty<byte>()); // parses, but has no job_id
        await queue.EnqueueAsync([RedisFixture.Job(1, 1)]);

        var jobs = await queue.ReadAsync("replica-a", count: 10);

        Assert.Equal(["1/0", "1/1"], jobs.Select(j => j.Job.JobId));
        Assert.Equal([garbage.ToString(), noField.ToString(), noId.ToString()], reported.Select(m => m.EntryId));
        Assert.All(reported, m => Assert.Equal(keys.Jobs, m.Stream));
        Assert.Contains("not a RolloutJob", reported[0].Reason);
        Assert.Contains("no 'm' field", reported[1].Reason);
        Assert.Contains("job_id is empty", reported[2].Reason);
        Assert.Equal(3, logger.Lines.Count(l => l.Contains("malformed entry", StringComparison.Ordinal)));
        Assert.Equal(2, await queue.PendingCountAsync()); // only the two real jobs wait for an ack
        Assert.Empty(await queue.ReadAsync("replica-b", count: 10));
    }

    [Fact]
    public async Task AMalformedRolloutEntryIsSkippedByTheCollector()
    {
        var keys = redis.NewRun();
        var reported = new List<MalformedEntry>();
        var stream = new RolloutStream(redis.Redis, keys);
        var collector = new RolloutCollector(redis.Redis, keys, "0-0", onMalformed: reported.Add);
        var garbage = await redis.Db.StreamAddAsync(keys.Rollouts, "m", NotProtobuf);
        await stream.AppendAsync(RedisFixture.Group(2, 0));

        var groups = await collector.CollectAsync(2, new HashSet<string> { "2/0" }, TimeSpan.FromSeconds(30));

        Assert.Equal(["2/0"], groups.Select(g => g.JobId));
        Assert.Equal(garbage.ToString(), Assert.Single(reported).EntryId);
    }
}
