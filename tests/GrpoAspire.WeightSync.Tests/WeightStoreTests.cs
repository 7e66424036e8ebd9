namespace GrpoAspire.WeightSync.Tests;

public sealed class WeightStoreTests
{
    private static WeightSnapshot Snapshot(long version)
    {
        using var model = TinyQwen.Random(seed: version);
        return WeightSnapshot.Capture(model, version);
    }

    [Fact]
    public void StoreKeepsTheNewestVersionsAndDropsOlderOnes()
    {
        var store = new WeightStore(retainedVersions: 2);
        Assert.Null(store.Latest);

        foreach (var version in new long[] { 1, 2, 5 })
        {
            store.Publish(Snapshot(version));
        }

        Assert.Equal([5, 2], store.Versions);
        Assert.Equal(5, store.Latest!.Version);
        Assert.Equal(2, store.Get(2)!.Version);
        Assert.Null(store.Get(1));
    }

    [Fact]
    public void PublishingAVersionNotAboveTheLatestFails()
    {
        var store = new WeightStore();
        store.Publish(Snapshot(3));

        var error = Assert.Throws<ArgumentException>(() => store.Publish(Snapshot(3)));

        Assert.Contains("version 3 cannot be published after version 3", error.Message, StringComparison.Ordinal);
    }
}
