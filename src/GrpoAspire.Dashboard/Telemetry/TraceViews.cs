namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>A line of the trace list: <c>/api/traces</c>.</summary>
/// <param name="RootName">The name of the earliest span without a parent in the trace (a child's when the root has not arrived).</param>
/// <param name="Services">Every service with a span in the trace, in order of their first span.</param>
public sealed record TraceSummary(
    string TraceId,
    string RootName,
    string RootService,
    IReadOnlyList<string> Services,
    int SpanCount,
    int ErrorCount,
    DateTimeOffset Start,
    double DurationMs);

/// <summary>One trace with its spans in tree order (each parent before its children): <c>/api/traces/{traceId}</c>.</summary>
public sealed record TraceDetail(
    string TraceId,
    DateTimeOffset Start,
    double DurationMs,
    IReadOnlyList<string> Services,
    IReadOnlyList<TraceSpan> Spans);

/// <summary>A span as the waterfall draws it: offsets from the trace's start, depth in the tree.</summary>
public sealed record TraceSpan(
    string SpanId,
    string? ParentSpanId,
    string Service,
    string Name,
    string Kind,
    int Depth,
    double StartOffsetMs,
    double DurationMs,
    string Status,
    string StatusMessage,
    IReadOnlyDictionary<string, string> Attributes);
