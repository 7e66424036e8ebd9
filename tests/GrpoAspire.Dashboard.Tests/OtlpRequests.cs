using Google.Protobuf;
using GrpoAspire.Dashboard.Otlp.Protocol;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>OTLP messages built by hand, for what an SDK would never send: bad ids, huge values, cycles.</summary>
internal static class OtlpRequests
{
    public static ByteString TraceId(int n) => Id(16, n);

    public static ByteString SpanId(int n) => Id(8, n);

    public static ExportTraceServiceRequest Traces(string service, params Span[] spans)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "test" } };
        scope.Spans.AddRange(spans);
        var resourceSpans = new ResourceSpans { Resource = Resource(service) };
        resourceSpans.ScopeSpans.Add(scope);
        return new ExportTraceServiceRequest { ResourceSpans = { resourceSpans } };
    }

    public static Span Span(int trace, int span, string name, int? parent = null, long startMs = 0, long durationMs = 10)
    {
        var start = (ulong)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + startMs) * 1_000_000UL;
        return new Span
        {
            TraceId = TraceId(trace),
            SpanId = SpanId(span),
            ParentSpanId = parent is { } p ? SpanId(p) : ByteString.Empty,
            Name = name,
            Kind = Otlp.Protocol.Span.Types.SpanKind.Internal,
            StartTimeUnixNano = start,
            EndTimeUnixNano = start + ((ulong)durationMs * 1_000_000UL),
        };
    }

    public static ExportMetricsServiceRequest Gauge(string service, string name, params double[] values)
    {
        var gauge = new Gauge();
        var time = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        for (var i = 0; i < values.Length; i++)
        {
            gauge.DataPoints.Add(new NumberDataPoint { AsDouble = values[i], TimeUnixNano = time + (ulong)i });
        }

        var scope = new ScopeMetrics { Metrics = { new Metric { Name = name, Gauge = gauge } } };
        return new ExportMetricsServiceRequest { ResourceMetrics = { new ResourceMetrics { Resource = Resource(service), ScopeMetrics = { scope } } } };
    }

    public static ExportLogsServiceRequest Logs(string service, params string[] bodies)
    {
        var scope = new ScopeLogs();
        foreach (var body in bodies)
        {
            scope.LogRecords.Add(new LogRecord
            {
                TimeUnixNano = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL,
                SeverityNumber = SeverityNumber.Warn,
                Body = new AnyValue { StringValue = body },
            });
        }

        return new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { Resource = Resource(service), ScopeLogs = { scope } } } };
    }

    public static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static Resource Resource(string service) => new() { Attributes = { Attribute("service.name", service) } };

    private static ByteString Id(int length, int n)
    {
        var bytes = new byte[length];
        BitConverter.TryWriteBytes(bytes.AsSpan(length - 4), n + 1);
        bytes[0] = 0xAB;
        return ByteString.CopyFrom(bytes);
    }
}
