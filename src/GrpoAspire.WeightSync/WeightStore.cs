namespace GrpoAspire.WeightSync;

/// <summary>
/// The trainer's published snapshots: the newest few versions, so a replica that was told of version v can still
/// fetch v by number after v+1 is published (bounded staleness), while memory stays bounded. Thread-safe: the
/// trainer publishes while gRPC calls read.
/// </summary>
public sealed class WeightStore : IWeightSource
{
    private readonly object _gate = new();
    private readonly int _retainedVersions;
    private readonly LinkedList<WeightSnapshot> _snapshots = new();

    /// <param name="retainedVersions">Versions kept, newest first; at least 1.</param>
    public WeightStore(int retainedVersions = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retainedVersions, 1);
        _retainedVersions = retainedVersions;
    }

    public WeightSnapshot? Latest
    {
        get
        {
            lock (_gate)
            {
                return _snapshots.First?.Value;
            }
        }
    }

    /// <summary>The versions held, newest first.</summary>
    public IReadOnlyList<long> Versions
    {
        get
        {
            lock (_gate)
            {
                return _snapshots.Select(s => s.Version).ToArray();
            }
        }
    }

    public WeightSnapshot? Get(long version)
    {
        lock (_gate)
        {
            return _snapshots.FirstOrDefault(s => s.Version == version);
        }
    }

    /// <summary>
    /// Makes <paramref name="snapshot"/> the latest and drops versions beyond the retained count. Streams already
    /// sending a dropped version finish it: they hold the snapshot itself.
    /// </summary>
    public void Publish(WeightSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_gate)
        {
            if (_snapshots.First?.Value is { } latest && snapshot.Version <= latest.Version)
            {
                throw new ArgumentException(
                    $"version {snapshot.Version} cannot be published after version {latest.Version}; versions must increase",
                    nameof(snapshot));
            }

            _snapshots.AddFirst(snapshot);
            while (_snapshots.Count > _retainedVersions)
            {
                _snapshots.RemoveLast();
            }
        }
    }
}
