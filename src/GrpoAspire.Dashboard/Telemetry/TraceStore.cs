namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>
/// The newest spans, grouped by trace. One bounded queue holds the spans (by count and bytes); when a span
/// leaves it, it leaves its trace too (always the trace's oldest: both are first in, first out), and a trace
/// with no span left is gone. One lock: writes are an append, reads copy what they need.
/// </summary>
internal sealed class TraceStore
{
    private readonly Lock _gate = new();
    private readonly BoundedQueue<SpanRecord> _spans;
    private readonly Dictionary<string, Queue<SpanRecord>> _traces = new(StringComparer.Ordinal);
    private readonly Action<SpanRecord> _remove;

    public TraceStore(int maxSpans, long maxBytes)
    {
        _spans = new BoundedQueue<SpanRecord>(maxSpans, maxBytes);
        _remove = Remove;
    }

    public int SpanCount
    {
        get
        {
            lock (_gate)
            {
                return _spans.Count;
            }
        }
    }

    public void Add(IReadOnlyList<SpanRecord> spans)
    {
        lock (_gate)
        {
            foreach (var span in spans)
            {
                if (!_traces.TryGetValue(span.TraceId, out var trace))
                {
                    trace = new Queue<SpanRecord>();
                    _traces.Add(span.TraceId, trace);
                }

                trace.Enqueue(span);
                _spans.Add(span, ApproximateSize.Of(span), _remove);
            }
        }
    }

    /// <summary>The <paramref name="limit"/> traces that started last, newest first.</summary>
    public IReadOnlyList<TraceSummary> List(int limit)
    {
        List<SpanRecord[]> traces;
        lock (_gate)
        {
            traces = _traces.Values.Select(trace => trace.ToArray()).ToList();
        }

        return traces
            .Select(Summarize)
            .OrderByDescending(summary => summary.Start)
            .ThenBy(summary => summary.TraceId, StringComparer.Ordinal)
            .Take(limit)
            .ToArray();
    }

    public TraceDetail? Get(string traceId)
    {
        SpanRecord[] spans;
        lock (_gate)
        {
            if (!_traces.TryGetValue(traceId.ToLowerInvariant(), out var trace))
            {
                return null;
            }

            spans = trace.ToArray();
        }

        var start = spans.Min(span => span.StartUnixNano);
        var end = spans.Max(span => span.EndUnixNano);
        var ordered = SpanTree.Order(spans);
        return new TraceDetail(
            spans[0].TraceId,
            UnixNanos.ToTime(start),
            UnixNanos.Span(start, end),
            ServicesOf(ordered.Select(item => item.Span)),
            ordered.Select(item => new TraceSpan(
                item.Span.SpanId,
                item.Span.ParentSpanId,
                item.Span.Service,
                item.Span.Name,
                item.Span.Kind,
                item.Depth,
                UnixNanos.Span(start, item.Span.StartUnixNano),
                UnixNanos.Span(item.Span.StartUnixNano, item.Span.EndUnixNano),
                item.Span.Status,
                item.Span.StatusMessage,
                item.Span.Attributes)).ToArray());
    }

    private void Remove(SpanRecord evicted)
    {
        var trace = _traces[evicted.TraceId];
        trace.Dequeue();
        if (trace.Count == 0)
        {
            _traces.Remove(evicted.TraceId);
        }
    }

    private static TraceSummary Summarize(SpanRecord[] spans)
    {
        var ids = spans.Select(span => span.SpanId).ToHashSet(StringComparer.Ordinal);
        var root = spans
            .Where(span => span.ParentSpanId is null || !ids.Contains(span.ParentSpanId))
            .DefaultIfEmpty(spans[0])
            .MinBy(span => span.StartUnixNano)!;
        var start = spans.Min(span => span.StartUnixNano);
        var end = spans.Max(span => span.EndUnixNano);
        return new TraceSummary(
            root.TraceId,
            root.Name,
            root.Service,
            ServicesOf(spans.OrderBy(span => span.StartUnixNano)),
            spans.Length,
            spans.Count(span => span.Status == "error"),
            UnixNanos.ToTime(start),
            UnixNanos.Span(start, end));
    }

    private static string[] ServicesOf(IEnumerable<SpanRecord> spans) =>
        spans.Select(span => span.Service).Distinct(StringComparer.Ordinal).ToArray();
}
