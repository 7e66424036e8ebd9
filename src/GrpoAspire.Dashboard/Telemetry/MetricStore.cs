namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>
/// The newest metric data points, indexed by metric name and time series. One bounded queue holds the points
/// of all series (by count and bytes); a point leaving it leaves its series (its oldest: both are first in,
/// first out), and a metric with no point left disappears from the names.
/// </summary>
internal sealed class MetricStore
{
    private readonly Lock _gate = new();
    private readonly BoundedQueue<MetricPoint> _points;
    private readonly Dictionary<string, MetricEntry> _metrics = new(StringComparer.Ordinal);
    private readonly Action<MetricPoint> _remove;

    public MetricStore(int maxPoints, long maxBytes)
    {
        _points = new BoundedQueue<MetricPoint>(maxPoints, maxBytes);
        _remove = Remove;
    }

    public int PointCount
    {
        get
        {
            lock (_gate)
            {
                return _points.Count;
            }
        }
    }

    /// <summary>Adds the points of one metric; <paramref name="unit"/> and <paramref name="description"/> replace the previous ones.</summary>
    public void Add(string name, string unit, string description, IReadOnlyList<MetricPoint> points)
    {
        if (points.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var point in points)
            {
                if (!_metrics.TryGetValue(point.Name, out var entry))
                {
                    entry = new MetricEntry();
                    _metrics.Add(point.Name, entry);
                }

                entry.Kind = point.Kind;
                entry.Unit = unit;
                entry.Description = description;
                if (!entry.Series.TryGetValue(point.SeriesKey, out var series))
                {
                    series = new Queue<MetricPoint>();
                    entry.Series.Add(point.SeriesKey, series);
                }

                series.Enqueue(point);
                _points.Add(point, ApproximateSize.Of(point), _remove);
            }
        }
    }

    /// <summary>Every metric name with its kind, unit, services and number of points kept, by name.</summary>
    public IReadOnlyList<MetricSummary> List()
    {
        lock (_gate)
        {
            return _metrics
                .OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => Summarize(pair.Key, pair.Value))
                .ToArray();
        }
    }

    /// <summary>The summary of one metric, or null for an unknown name.</summary>
    public MetricSummary? Find(string name)
    {
        lock (_gate)
        {
            return _metrics.TryGetValue(name, out var entry) ? Summarize(name, entry) : null;
        }
    }

    /// <summary>
    /// The points of <paramref name="name"/> (of one service when <paramref name="service"/> is set) in the order
    /// they arrived within each series, series after series; null for an unknown metric.
    /// </summary>
    public IReadOnlyList<MetricPoint>? Points(string name, string? service)
    {
        lock (_gate)
        {
            if (!_metrics.TryGetValue(name, out var entry))
            {
                return null;
            }

            return entry.Series.Values
                .Where(series => service is null || series.Peek().Service == service)
                .SelectMany(series => series)
                .ToArray();
        }
    }

    private void Remove(MetricPoint evicted)
    {
        var entry = _metrics[evicted.Name];
        var series = entry.Series[evicted.SeriesKey];
        series.Dequeue();
        if (series.Count > 0)
        {
            return;
        }

        entry.Series.Remove(evicted.SeriesKey);
        if (entry.Series.Count == 0)
        {
            _metrics.Remove(evicted.Name);
        }
    }

    private static MetricSummary Summarize(string name, MetricEntry entry) => new(
        name,
        entry.Kind,
        entry.Unit,
        entry.Description,
        entry.Series.Values.Select(series => series.Peek().Service).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
        entry.Series.Values.Sum(series => series.Count));

    private sealed class MetricEntry
    {
        public string Kind { get; set; } = string.Empty;
        public string Unit { get; set; } = string.Empty;
        public string Description { get; set; } = string.Empty;
        public Dictionary<string, Queue<MetricPoint>> Series { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>A line of <c>/api/metrics</c>.</summary>
public sealed record MetricSummary(string Name, string Kind, string Unit, string Description, IReadOnlyList<string> Services, int Points);
