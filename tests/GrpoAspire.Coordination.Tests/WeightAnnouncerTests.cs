using System.Threading.Channels;
using StackExchange.Redis;

namespace GrpoAspire.Coordination.Tests;

public sealed class WeightAnnouncerTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ASubscriberSeesEveryPublishedVersionInOrder()
    {
        var announcer = new WeightAnnouncer(redis.Redis, redis.NewRun());
        var seen = Channel.CreateUnbounded<WeightAnnouncement>();
        await using var subscription = await announcer.SubscribeAsync(a => seen.Writer.WriteAsync(a).AsTask());

        for (var version = 1; version <= 5; version++)
        {
            await announcer.PublishAsync(version, $"http://trainer:5001/v{version}");
        }

        var versions = new List<long>();
        using var timeout = new CancellationTokenSource(Patient);
        while (versions.Count < 5)
        {
            var announcement = await seen.Reader.ReadAsync(timeout.Token);
            versions.Add(announcement.Version);
            Assert.Equal($"http://trainer:5001/v{announcement.Version}", announcement.Address);
        }

        Assert.Equal([1L, 2, 3, 4, 5], versions);
    }

    [Fact]
    public async Task ALateSubscriberGetsTheCurrentVersionAtOnce()
    {
        var announcer = new WeightAnnouncer(redis.Redis, redis.NewRun());
        await announcer.PublishAsync(2, "http://trainer:5001");
        var published = await announcer.PublishAsync(3, "http://trainer-1:5001");
        var seen = Channel.CreateUnbounded<WeightAnnouncement>();

        await using var subscription = await announcer.SubscribeAsync(a => seen.Writer.WriteAsync(a).AsTask());

        Assert.True(seen.Reader.TryRead(out var current)); // delivered before SubscribeAsync returned
        Assert.Equal(3, current.Version);
        Assert.Equal("http://trainer-1:5001", current.Address);
        Assert.Equal(published.PublishedAt, current.PublishedAt);
        Assert.False(seen.Reader.TryRead(out _));
    }

    [Fact]
    public async Task AnAnnouncementWhoseMessageWasMissedIsDeliveredAtTheNextCheckOfTheKey()
    {
        var keys = redis.NewRun();
        var announcer = new WeightAnnouncer(redis.Redis, keys);
        await announcer.PublishAsync(1, "http://trainer");
        var seen = Channel.CreateUnbounded<long>();
        await using var subscription = await announcer.SubscribeAsync(a => seen.Writer.WriteAsync(a.Version).AsTask(),
            recheckEvery: TimeSpan.FromMilliseconds(200));
        using var timeout = new CancellationTokenSource(Patient);
        Assert.Equal(1, await seen.Reader.ReadAsync(timeout.Token));

        // What a subscriber whose connection was down during the publish sees: the key moved, no message came.
        await redis.Db.HashSetAsync(keys.WeightsVersion, "version", "2");

        Assert.Equal(2, await seen.Reader.ReadAsync(timeout.Token));
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.False(seen.Reader.TryRead(out _)); // checked again, not delivered again
    }

    [Fact]
    public async Task GetLatestIsNullBeforeTheFirstAnnouncementAndTheNewestAfter()
    {
        var announcer = new WeightAnnouncer(redis.Redis, redis.NewRun());
        Assert.Null(await announcer.GetLatestAsync());

        await announcer.PublishAsync(7, "http://a");
        await announcer.PublishAsync(8, "http://b");
        await announcer.PublishAsync(8, "http://c"); // a restarted trainer announces its version again

        var latest = await announcer.GetLatestAsync();
        Assert.Equal((8L, "http://c"), (latest!.Version, latest.Address));
    }

    [Fact]
    public async Task AnOlderVersionIsRefusedAndLeavesTheLatestAsItWas()
    {
        var announcer = new WeightAnnouncer(redis.Redis, redis.NewRun());
        await announcer.PublishAsync(10, "http://a");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => announcer.PublishAsync(9, "http://b"));

        Assert.Contains("weights version 9 is older than the announced version 10", error.Message);
        Assert.Equal(10, (await announcer.GetLatestAsync())!.Version);
    }

    [Fact]
    public async Task AFailingHandlerOrABadMessageDoesNotEndTheSubscription()
    {
        var keys = redis.NewRun();
        var announcer = new WeightAnnouncer(redis.Redis, keys);
        var seen = Channel.CreateUnbounded<long>();
        await using var subscription = await announcer.SubscribeAsync(a =>
            a.Version == 1 ? throw new InvalidOperationException("boom") : seen.Writer.WriteAsync(a.Version).AsTask());

        await announcer.PublishAsync(1, "http://a");
        await redis.Redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys.WeightsChannel), "not json");
        await announcer.PublishAsync(2, "http://a");

        using var timeout = new CancellationTokenSource(Patient);
        Assert.Equal(2, await seen.Reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task ADisposedSubscriptionGetsNoMoreVersions()
    {
        var announcer = new WeightAnnouncer(redis.Redis, redis.NewRun());
        var seen = Channel.CreateUnbounded<long>();
        var subscription = await announcer.SubscribeAsync(a => seen.Writer.WriteAsync(a.Version).AsTask());
        await announcer.PublishAsync(1, "http://a");
        using var timeout = new CancellationTokenSource(Patient);
        Assert.Equal(1, await seen.Reader.ReadAsync(timeout.Token));

        await subscription.DisposeAsync();
        await announcer.PublishAsync(2, "http://a");
        // A witness on the same connection: messages reach it in publish order, so once it has version 3 by
        // pub/sub, version 2 was delivered to every subscription still open.
        var witnessed = Channel.CreateUnbounded<long>();
        await using var witness = await announcer.SubscribeAsync(a => witnessed.Writer.WriteAsync(a.Version).AsTask());
        Assert.Equal(2, await witnessed.Reader.ReadAsync(timeout.Token));
        await announcer.PublishAsync(3, "http://a");
        Assert.Equal(3, await witnessed.Reader.ReadAsync(timeout.Token));

        Assert.False(seen.Reader.TryRead(out _));
    }
}
