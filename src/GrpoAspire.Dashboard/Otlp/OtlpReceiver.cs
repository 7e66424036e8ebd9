using GrpoAspire.Dashboard.Otlp.Protocol;
using GrpoAspire.Dashboard.Telemetry;

namespace GrpoAspire.Dashboard.Otlp;

/// <summary>
/// Turns OTLP export requests into bounded records in the store; shared by the gRPC and the HTTP endpoints
/// so both accept and reject exactly the same things. Items that cannot be shown (a span without a valid
/// trace or span id, a data point without a value) are rejected one by one and reported in the response's
/// partial success, as OTLP specifies; the rest of the request is kept.
/// </summary>
internal sealed class OtlpReceiver(TelemetryStore store, DashboardOptions options)
{
    private readonly OtlpValues _values = new(options.MaxAttributeLength, options.MaxAttributesPerItem);

    public ExportTraceServiceResponse Export(ExportTraceServiceRequest request)
    {
        var spans = new List<SpanRecord>();
        var rejected = new Rejections();
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var service = _values.ServiceName(resourceSpans.Resource);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                var scope = Cut(scopeSpans.Scope?.Name);
                foreach (var span in scopeSpans.Spans)
                {
                    if (ToRecord(span, service, scope, rejected) is { } record)
                    {
                        spans.Add(record);
                    }
                }
            }
        }

        store.Traces.Add(spans);
        return new ExportTraceServiceResponse
        {
            PartialSuccess = rejected.Count == 0 ? null : new ExportTracePartialSuccess { RejectedSpans = rejected.Count, ErrorMessage = rejected.Message },
        };
    }

    public ExportMetricsServiceResponse Export(ExportMetricsServiceRequest request)
    {
        var rejected = new Rejections();
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var service = _values.ServiceName(resourceMetrics.Resource);
            var batch = store.NextBatch();
            foreach (var metric in resourceMetrics.ScopeMetrics.SelectMany(scope => scope.Metrics))
            {
                var converter = new MetricPointConverter(_values, Cut(metric.Name), service, batch);
                var points = converter.Convert(metric, rejected);
                store.Metrics.Add(converter.Name, Cut(metric.Unit), Cut(metric.Description), points);
            }
        }

        return new ExportMetricsServiceResponse
        {
            PartialSuccess = rejected.Count == 0 ? null : new ExportMetricsPartialSuccess { RejectedDataPoints = rejected.Count, ErrorMessage = rejected.Message },
        };
    }

    public ExportLogsServiceResponse Export(ExportLogsServiceRequest request)
    {
        var entries = new List<LogEntry>();
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var service = _values.ServiceName(resourceLogs.Resource);
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                var scope = Cut(scopeLogs.Scope?.Name);
                foreach (var log in scopeLogs.LogRecords)
                {
                    entries.Add(new LogEntry
                    {
                        Time = UnixNanos.ToTime(log.TimeUnixNano != 0 ? log.TimeUnixNano : log.ObservedTimeUnixNano),
                        Service = service,
                        SeverityNumber = (int)log.SeverityNumber is >= 0 and <= 24 ? (int)log.SeverityNumber : 0,
                        Severity = log.SeverityText.Length > 0 ? Cut(log.SeverityText) : SeverityName(log.SeverityNumber),
                        Body = _values.Display(log.Body),
                        Scope = scope,
                        TraceId = OtlpValues.Id(log.TraceId),
                        SpanId = OtlpValues.Id(log.SpanId),
                        Attributes = _values.Attributes(log.Attributes),
                    });
                }
            }
        }

        store.Logs.Add(entries);
        return new ExportLogsServiceResponse();
    }

    private SpanRecord? ToRecord(Span span, string service, string scope, Rejections rejected)
    {
        var traceId = span.TraceId.Length == 16 ? OtlpValues.Id(span.TraceId) : null;
        var spanId = span.SpanId.Length == 8 ? OtlpValues.Id(span.SpanId) : null;
        if (traceId is null || spanId is null)
        {
            rejected.Add("a span needs a non-zero 16-byte trace_id and 8-byte span_id");
            return null;
        }

        if (!span.ParentSpanId.IsEmpty && span.ParentSpanId.Length != 8)
        {
            rejected.Add("parent_span_id must be empty or 8 bytes");
            return null;
        }

        return new SpanRecord
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = OtlpValues.Id(span.ParentSpanId),
            Name = Cut(span.Name),
            Service = service,
            Scope = scope,
            Kind = span.Kind switch
            {
                Span.Types.SpanKind.Internal => "internal",
                Span.Types.SpanKind.Server => "server",
                Span.Types.SpanKind.Client => "client",
                Span.Types.SpanKind.Producer => "producer",
                Span.Types.SpanKind.Consumer => "consumer",
                _ => "unspecified",
            },
            StartUnixNano = span.StartTimeUnixNano,
            EndUnixNano = Math.Max(span.StartTimeUnixNano, span.EndTimeUnixNano),
            Status = span.Status?.Code switch
            {
                Status.Types.StatusCode.Ok => "ok",
                Status.Types.StatusCode.Error => "error",
                _ => "unset",
            },
            StatusMessage = Cut(span.Status?.Message),
            Attributes = _values.Attributes(span.Attributes),
        };
    }

    private string Cut(string? text) => BoundedText.Cut(text, options.MaxAttributeLength);

    /// <summary>OTLP's severity ranges (1-4 TRACE ... 21-24 FATAL) with .NET's level names.</summary>
    private static string SeverityName(SeverityNumber number) => (int)number switch
    {
        >= 1 and <= 4 => "Trace",
        >= 5 and <= 8 => "Debug",
        >= 9 and <= 12 => "Information",
        >= 13 and <= 16 => "Warning",
        >= 17 and <= 20 => "Error",
        >= 21 and <= 24 => "Critical",
        _ => string.Empty,
    };
}

/// <summary>How many items of one request were rejected, and the first reason.</summary>
internal sealed class Rejections
{
    public long Count { get; private set; }

    public string Message { get; private set; } = string.Empty;

    public void Add(string reason, long count = 1)
    {
        if (Count == 0)
        {
            Message = reason;
        }

        Count += count;
    }
}
