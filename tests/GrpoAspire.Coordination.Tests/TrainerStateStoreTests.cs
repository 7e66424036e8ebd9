namespace GrpoAspire.Coordination.Tests;

public sealed class TrainerStateStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task SavedProgressLoadsBackUnchanged()
    {
        var store = new TrainerStateStore(redis.Redis, redis.NewRun());
        var progress = new TrainerProgress(Step: 42, PolicyVersion: 43, DatasetCursor: 42 * 64 + 7,
            TrainerStatus.Running, new DateTimeOffset(2025, 11, 25, 16, 23, 5, 123, TimeSpan.Zero));

        await store.SaveAsync(progress);

        Assert.Equal(progress, await store.LoadAsync());
        await store.SaveAsync(progress with { Step = 43, Status = TrainerStatus.Completed });
        Assert.Equal(progress with { Step = 43, Status = TrainerStatus.Completed }, await store.LoadAsync());
    }

    [Fact]
    public async Task TheHashIsReadableByHand()
    {
        var keys = redis.NewRun();
        var store = new TrainerStateStore(redis.Redis, keys);
        await store.SaveAsync(new TrainerProgress(1, 2, 3, TrainerStatus.Starting, DateTimeOffset.UnixEpoch));

        var hash = (await redis.Db.HashGetAllAsync(keys.TrainerState)).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());

        Assert.Equal("1", hash["step"]);
        Assert.Equal("2", hash["policy_version"]);
        Assert.Equal("3", hash["dataset_cursor"]);
        Assert.Equal("starting", hash["status"]);
        Assert.Equal("1970-01-01T00:00:00.0000000+00:00", hash["updated_at"]);
    }

    [Fact]
    public async Task ARunWithoutSavedProgressLoadsNull()
    {
        Assert.Null(await new TrainerStateStore(redis.Redis, redis.NewRun()).LoadAsync());
    }

    [Fact]
    public async Task AHashWithAnUnknownStatusFailsNamingTheField()
    {
        var keys = redis.NewRun();
        var store = new TrainerStateStore(redis.Redis, keys);
        await store.SaveAsync(new TrainerProgress(1, 1, 1, TrainerStatus.Running, DateTimeOffset.UnixEpoch));
        await redis.Db.HashSetAsync(keys.TrainerState, "status", "dancing");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => store.LoadAsync());

        Assert.Contains("status is 'dancing', not one of starting, running, completed, failed, stopped", error.Message);
    }
}
