namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>
/// A first-in first-out queue bounded twice: by item count and by the approximate bytes its items hold. A
/// count alone does not bound memory when a sender fills every item with maximal attributes; the byte budget
/// does. Not thread-safe: every owner holds its own lock.
/// </summary>
internal sealed class BoundedQueue<T>(int maxCount, long maxBytes)
{
    private readonly Queue<(T Item, long Bytes)> _items = new();

    public int Count => _items.Count;

    public long Bytes { get; private set; }

    public IEnumerable<T> Items => _items.Select(entry => entry.Item);

    /// <summary>
    /// Appends <paramref name="item"/>, then drops the oldest items, calling <paramref name="evicted"/> for each,
    /// while either bound is exceeded. The newest item always stays, even alone over the byte budget.
    /// </summary>
    public void Add(T item, long bytes, Action<T> evicted)
    {
        _items.Enqueue((item, bytes));
        Bytes += bytes;
        while (_items.Count > maxCount || (Bytes > maxBytes && _items.Count > 1))
        {
            var oldest = _items.Dequeue();
            Bytes -= oldest.Bytes;
            evicted(oldest.Item);
        }
    }
}

/// <summary>Approximate heap bytes of received records: UTF-16 text plus a fixed cost per object and attribute.</summary>
internal static class ApproximateSize
{
    private const long RecordOverhead = 160;
    private const long AttributeOverhead = 64;

    public static long Of(SpanRecord span) =>
        RecordOverhead + Text(span.TraceId, span.SpanId, span.ParentSpanId, span.Name, span.Service, span.Scope, span.StatusMessage)
        + Attributes(span.Attributes);

    public static long Of(MetricPoint point) =>
        RecordOverhead + Text(point.Name, point.Service, point.SeriesKey) + Attributes(point.Attributes);

    public static long Of(LogEntry entry) =>
        RecordOverhead + Text(entry.Service, entry.Severity, entry.Body, entry.Scope, entry.TraceId, entry.SpanId) + Attributes(entry.Attributes);

    private static long Attributes(IReadOnlyDictionary<string, string> attributes) =>
        attributes.Sum(pair => AttributeOverhead + (2L * (pair.Key.Length + pair.Value.Length)));

    private static long Text(params string?[] values) => values.Sum(value => 2L * (value?.Length ?? 0));
}
