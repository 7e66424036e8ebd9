using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Coordination.Tests;

public sealed class RolloutCollectorTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TheCollectorReturnsExactlyTheExpectedGroupsAndDropsDuplicatesAndOtherSteps()
    {
        var keys = redis.NewRun();
        var stream = new RolloutStream(redis.Redis, keys);
        var logger = new ListLogger<RolloutCollector>();
        var collector = new RolloutCollector(redis.Redis, keys, "0-0", logger: logger);

        await stream.AppendAsync(RedisFixture.Group(step: 1, promptIndex: 3));
        await stream.AppendAsync(RedisFixture.Group(step: 0, promptIndex: 0)); // a late group of step 0
        await stream.AppendAsync(RedisFixture.Group(step: 1, promptIndex: 1, replica: "replica-a"));
        await stream.AppendAsync(RedisFixture.Group(step: 1, promptIndex: 1, replica: "replica-b")); // reclaimed, done twice
        await stream.AppendAsync(RedisFixture.Group(step: 1, promptIndex: 9)); // not asked for
        await stream.AppendAsync(RedisFixture.Group(step: 1, promptIndex: 0));
        await stream.AppendAsync(RedisFixture.Group(step: 1, promptIndex: 2));

        var groups = await collector.CollectAsync(1, new HashSet<string> { "1/0", "1/1", "1/2", "1/3" }, Patient);

        Assert.Equal(["1/0", "1/1", "1/2", "1/3"], groups.Select(g => g.JobId));
        Assert.Equal("replica-a", groups[1].Replica);
        Assert.Equal(RedisFixture.Group(1, 2), groups[2]);
        Assert.Contains(logger.Lines, l => l.Contains("duplicate group for job 1/1", StringComparison.Ordinal));
        Assert.Contains(logger.Lines, l => l.Contains("group of step 0 for job 0/0", StringComparison.Ordinal));
        Assert.Contains(logger.Lines, l => l.Contains("job 1/9, which this step did not ask for", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GroupsThatArriveWhileTheCollectorWaitsAreCollected()
    {
        var keys = redis.NewRun();
        var stream = new RolloutStream(redis.Redis, keys);
        var collector = await RolloutCollector.StartAtEndAsync(redis.Redis, keys);

        var collecting = collector.CollectAsync(2, new HashSet<string> { "2/0", "2/1" }, Patient);
        await Task.Delay(TimeSpan.FromMilliseconds(100));
        Assert.False(collecting.IsCompleted);
        await stream.AppendAsync(RedisFixture.Group(step: 2, promptIndex: 1));
        await stream.AppendAsync(RedisFixture.Group(step: 2, promptIndex: 0));

        Assert.Equal(["2/0", "2/1"], (await collecting).Select(g => g.JobId));
    }

    [Fact]
    public async Task GroupsAppendedBeforeCollectingStartsAreNotLostAcrossSteps()
    {
        var keys = redis.NewRun();
        var stream = new RolloutStream(redis.Redis, keys);
        await stream.AppendAsync(RedisFixture.Group(step: 9, promptIndex: 0)); // an earlier run's leftovers
        var collector = await RolloutCollector.StartAtEndAsync(redis.Redis, keys);

        // Fast replicas finish before the trainer asks, and a trainer that enqueues ahead gets step 4's groups
        // while it collects step 3.
        await stream.AppendAsync(RedisFixture.Group(step: 3, promptIndex: 0));
        await stream.AppendAsync(RedisFixture.Group(step: 4, promptIndex: 0));
        await stream.AppendAsync(RedisFixture.Group(step: 3, promptIndex: 1));
        await stream.AppendAsync(RedisFixture.Group(step: 4, promptIndex: 1));
        await stream.AppendAsync(RedisFixture.Group(step: 4, promptIndex: 1, replica: "replica-b"));

        var step3 = await collector.CollectAsync(3, new HashSet<string> { "3/0", "3/1" }, Patient);
        var step4 = await collector.CollectAsync(4, new HashSet<string> { "4/0", "4/1" }, Patient);

        Assert.Equal(["3/0", "3/1"], step3.Select(g => g.JobId));
        Assert.Equal(["4/0", "4/1"], step4.Select(g => g.JobId));
        Assert.Equal("replica-a", step4[1].Replica);
    }

    [Fact]
    public async Task TheCollectorTimeoutNamesTheMissingJobIds()
    {
        var keys = redis.NewRun();
        var stream = new RolloutStream(redis.Redis, keys);
        var collector = new RolloutCollector(redis.Redis, keys, "0-0");
        await stream.AppendAsync(RedisFixture.Group(step: 5, promptIndex: 1));

        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            collector.CollectAsync(5, new HashSet<string> { "5/0", "5/1", "5/2" }, TimeSpan.FromMilliseconds(300)));

        Assert.Contains("step 5: 2 of 3 rollout groups", error.Message);
        Assert.Contains("missing job ids: 5/0, 5/2", error.Message);
        Assert.DoesNotContain("5/1", error.Message);
    }

    [Fact]
    public async Task TheCollectorStopsWaitingWhenCanceled()
    {
        var collector = new RolloutCollector(redis.Redis, redis.NewRun(), "0-0");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            collector.CollectAsync(0, new HashSet<string> { "0/0" }, Patient, cancel.Token));
    }

    [Theory]
    [InlineData("$")]
    [InlineData(">")]
    [InlineData("12-x")]
    [InlineData("")]
    public void AStartPositionThatIsNotAStreamIdIsRefused(string position)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new RolloutCollector(redis.Redis, redis.NewRun(), position));

        Assert.Contains("StartAtEndAsync", error.Message);
    }

    [Fact]
    public async Task AGroupWithoutAJobIdIsNotAppended()
    {
        var keys = redis.NewRun();
        var stream = new RolloutStream(redis.Redis, keys);

        await Assert.ThrowsAsync<ArgumentException>(() => stream.AppendAsync(new RolloutGroup { Step = 1 }));
        Assert.Equal("0-0", await stream.EndPositionAsync());
    }
}
