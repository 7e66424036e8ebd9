namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>The newest structured log records (OTLP logs), bounded by count and bytes.</summary>
internal sealed class LogStore(int maxRecords, long maxBytes)
{
    private static readonly Action<LogEntry> Dropped = _ => { };
    private readonly Lock _gate = new();
    private readonly BoundedQueue<LogEntry> _entries = new(maxRecords, maxBytes);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public void Add(IReadOnlyList<LogEntry> entries)
    {
        lock (_gate)
        {
            foreach (var entry in entries)
            {
                _entries.Add(entry, ApproximateSize.Of(entry), Dropped);
            }
        }
    }

    /// <summary>
    /// The newest <paramref name="limit"/> records of <paramref name="service"/> (all when null) at
    /// <paramref name="minSeverity"/> or above, oldest first.
    /// </summary>
    public IReadOnlyList<LogEntry> Query(string? service, int minSeverity, int limit)
    {
        List<LogEntry> all;
        lock (_gate)
        {
            all = _entries.Items.ToList();
        }

        var matching = all.Where(entry =>
            (service is null || entry.Service == service) && entry.SeverityNumber >= minSeverity).ToList();
        return matching.Count > limit ? matching.GetRange(matching.Count - limit, limit) : matching;
    }
}
