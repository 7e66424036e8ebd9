using System.Diagnostics;
using System.Threading.Channels;
using StackExchange.Redis;

namespace GrpoAspire.Coordination.Tests;

/// <summary>
/// The trainer's bookkeeping when Redis loses its data (a restart without persistence): lost jobs are asked for
/// again within the check interval, a group that arrives twice counts once, and weights announcements of a new
/// trainer incarnation replace a later version of the old one.
/// </summary>
public sealed class LostJobTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(30);
    private static readonly CoordinationOptions FastCheck = new() { LostJobCheckInterval = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task JobsLostWithRedisDataAreEnqueuedAgainAndTheirStepCompletesLongBeforeTheTimeout()
    {
        var keys = redis.NewRun();
        var queue = new RolloutJobQueue(redis.Redis, keys, FastCheck);
        var ledger = new JobLedger(queue);
        var logger = new ListLogger<RolloutCollector>();
        var collector = await RolloutCollector.StartAtEndAsync(redis.Redis, keys, FastCheck, logger);
        await queue.EnsureGroupAsync();
        await ledger.EnqueueAsync(RedisFixture.Jobs(step: 1, count: 3));
        var stream = new RolloutStream(redis.Redis, keys);
        var served = await queue.ReadAsync("replica-a", count: 1);
        await stream.AppendAsync(RedisFixture.Group(1, served[0].Job.PromptIndex));
        await queue.AckAsync(served[0].EntryId);

        // Redis restarts empty: the queue, its group, the rollouts and the other two jobs are gone.
        await redis.Db.KeyDeleteAsync([keys.Jobs, keys.Rollouts]);
        var clock = Stopwatch.StartNew();
        var collecting = collector.CollectAsync(1, new HashSet<string> { "1/0", "1/1", "1/2" }, TimeSpan.FromMinutes(10), default, ledger);

        // A replica after the restart: the lost jobs come back through the queue (group recreated on NOGROUP).
        var again = await ServeAllAsync(queue, stream, expected: 3, collecting);
        var groups = await collecting.WaitAsync(Patient);

        Assert.Equal(["1/0", "1/1", "1/2"], groups.Select(g => g.JobId));
        Assert.Equal(["1/0", "1/1", "1/2"], again.Order(StringComparer.Ordinal));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"collected after {clock.Elapsed}");
        Assert.Contains(logger.Lines, l => l.Contains("3 jobs are gone from Redis", StringComparison.Ordinal));
        Assert.Equal(0, ledger.Count);
    }

    [Fact]
    public async Task AJobWhoseGroupArrivedIsNotAskedForAgainAndAGroupArrivingTwiceCountsOnce()
    {
        var keys = redis.NewRun();
        var queue = new RolloutJobQueue(redis.Redis, keys, FastCheck);
        var ledger = new JobLedger(queue);
        var logger = new ListLogger<RolloutCollector>();
        var collector = await RolloutCollector.StartAtEndAsync(redis.Redis, keys, FastCheck, logger);
        var stream = new RolloutStream(redis.Redis, keys);
        await queue.EnsureGroupAsync();
        await ledger.EnqueueAsync(RedisFixture.Jobs(step: 2, count: 2));

        // Job 2/0 is served (entry deleted after its group), then job 2/1's entry is lost.
        var first = await queue.ReadAsync("replica-a", count: 1);
        await stream.AppendAsync(RedisFixture.Group(2, first[0].Job.PromptIndex));
        await queue.AckAsync(first[0].EntryId);
        var second = await queue.ReadAsync("replica-a", count: 1);
        await redis.Db.StreamDeleteAsync(keys.Jobs, [second[0].EntryId]);
        var collecting = collector.CollectAsync(2, new HashSet<string> { "2/0", "2/1" }, Patient, default, ledger);

        var again = await queue.WaitForJobsAsync("replica-b", count: 10, TimeSpan.FromMilliseconds(20), default).WaitAsync(Patient);
        Assert.Equal(["2/1"], again.Select(j => j.Job.JobId));
        // The replica that held 2/1 before the loss finishes after all, and so does the one it was given to.
        await stream.AppendAsync(RedisFixture.Group(2, 1, replica: "replica-a"));
        await stream.AppendAsync(RedisFixture.Group(2, 1, replica: "replica-b"));
        var groups = await collecting.WaitAsync(Patient);

        Assert.Equal(["2/0", "2/1"], groups.Select(g => g.JobId));
        Assert.Equal("replica-a", groups[1].Replica);
        await stream.AppendAsync(RedisFixture.Group(3, 0));
        await ledger.EnqueueAsync([RedisFixture.Job(3, 0)]);
        var next = await collector.CollectAsync(3, new HashSet<string> { "3/0" }, Patient, default, ledger);
        Assert.Single(next);
        // The second copy is dropped: as a duplicate while step 2 collects, or as a late group of step 2 after.
        Assert.Contains(logger.Lines, l => l.Contains("duplicate group for job 2/1", StringComparison.Ordinal)
            || l.Contains("group of step 2 for job 2/1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheLedgerRefusesAJobIdStillOutstandingAndTellsWhichEntriesAreGone()
    {
        var keys = redis.NewRun();
        var queue = new RolloutJobQueue(redis.Redis, keys);
        var ledger = new JobLedger(queue);
        await ledger.EnqueueAsync(RedisFixture.Jobs(step: 1, count: 2));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => ledger.EnqueueAsync([RedisFixture.Job(1, 1)]));
        Assert.Contains("job '1/1' is already outstanding", error.Message, StringComparison.Ordinal);
        Assert.Empty(await ledger.GoneAsync(["1/0", "1/1"]));

        await redis.Db.KeyDeleteAsync(keys.Jobs);
        Assert.Equal(["1/0", "1/1"], (await ledger.GoneAsync(["1/0", "1/1", "9/9"])).Order(StringComparer.Ordinal));
        ledger.Forget(["1/0", "1/1"]);
        await ledger.EnqueueAsync([RedisFixture.Job(1, 1)]);
        Assert.Equal(1, ledger.Count);
    }

    [Fact]
    public async Task ANewIncarnationReplacesALaterVersionAndSubscribersRollBackToIt()
    {
        var keys = redis.NewRun();
        var crashed = new WeightAnnouncer(redis.Redis, keys);
        var resumed = new WeightAnnouncer(redis.Redis, keys);
        var seen = Channel.CreateUnbounded<WeightAnnouncement>();
        await crashed.PublishAsync(40, "http://trainer");
        await using var subscription = await new WeightAnnouncer(redis.Redis, keys).SubscribeAsync(a => seen.Writer.WriteAsync(a).AsTask());

        await resumed.PublishAsync(35, "http://trainer");
        await Assert.ThrowsAsync<InvalidOperationException>(() => resumed.PublishAsync(34, "http://trainer"));

        var latest = await resumed.GetLatestAsync();
        Assert.Equal((35L, resumed.Incarnation), (latest!.Version, latest.Incarnation));
        Assert.NotEqual(crashed.Incarnation, resumed.Incarnation);
        var first = await seen.Reader.ReadAsync().AsTask().WaitAsync(Patient);
        var second = await seen.Reader.ReadAsync().AsTask().WaitAsync(Patient);
        Assert.Equal([(40L, crashed.Incarnation), (35L, resumed.Incarnation)], [(first.Version, first.Incarnation), (second.Version, second.Incarnation)]);
    }

    [Fact]
    public async Task ACommandAgainstAnUnreachableRedisFailsWithOneLineOnceTheOutageLimitIsPast()
    {
        var options = RedisConnection.ParseOptions($"127.0.0.1:{FreePort()},connectTimeout=200,asyncTimeout=200");
        await using var down = await ConnectionMultiplexer.ConnectAsync(options);
        var limit = new CoordinationOptions { MaxOutage = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RedisUnavailableException>(() => RedisOutage.RetryAsync(
            () => down.GetDatabase().PingAsync(), limit, "pinging", new ListLogger<LostJobTests>(), default));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
        Assert.StartsWith("Redis was unreachable for ", error.Message, StringComparison.Ordinal);
        Assert.Contains("while pinging (outage limit 1 s)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    private static async Task<List<string>> ServeAllAsync(RolloutJobQueue queue, RolloutStream stream, int expected, Task collecting)
    {
        var served = new List<string>();
        while (served.Count < expected && !collecting.IsCompleted)
        {
            var jobs = await queue.WaitForJobsAsync("replica-b", count: 10, TimeSpan.FromMilliseconds(20), default).WaitAsync(Patient);
            foreach (var job in jobs)
            {
                await stream.AppendAsync(RedisFixture.Group(job.Job.Step, job.Job.PromptIndex, replica: "replica-b"));
                await queue.AckAsync(job.EntryId);
                served.Add(job.Job.JobId);
            }
        }

        return served;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
