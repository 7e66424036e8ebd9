namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>One received span, already bounded (names and attributes cut) and with ids as lowercase hex.</summary>
internal sealed record SpanRecord
{
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    public required string Name { get; init; }

    /// <summary>The resource's <c>service.name</c>.</summary>
    public required string Service { get; init; }

    /// <summary>The instrumentation scope (ActivitySource) that produced the span.</summary>
    public string Scope { get; init; } = string.Empty;

    /// <summary>internal, server, client, producer, consumer or unspecified.</summary>
    public string Kind { get; init; } = "internal";

    public ulong StartUnixNano { get; init; }
    public ulong EndUnixNano { get; init; }

    /// <summary>unset, ok or error.</summary>
    public string Status { get; init; } = "unset";

    public string StatusMessage { get; init; } = string.Empty;
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = EmptyAttributes.Instance;
}

/// <summary>One received metric data point: a value for gauges and sums, count and sum for distributions.</summary>
internal sealed record MetricPoint
{
    public required string Name { get; init; }
    public required string Service { get; init; }

    /// <summary>gauge, sum, histogram, exponential_histogram or summary.</summary>
    public required string Kind { get; init; }

    public ulong TimeUnixNano { get; init; }
    public double? Value { get; init; }
    public ulong? Count { get; init; }
    public double? Sum { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = EmptyAttributes.Instance;

    /// <summary>
    /// The export request (and resource) the point came in. An SDK exports every instrument of one collection
    /// in one request, so points of one batch belong together: the training curves pair a reward with the
    /// <c>grpo.trainer.step</c> of the same batch even when their timestamps differ by microseconds.
    /// </summary>
    public long Batch { get; init; }

    /// <summary>Name, service and attributes: the identity of the time series the point belongs to.</summary>
    public required string SeriesKey { get; init; }
}

/// <summary>One received log record.</summary>
internal sealed record LogEntry
{
    public required DateTimeOffset Time { get; init; }
    public required string Service { get; init; }

    /// <summary>OTLP severity number, 1 (TRACE) to 24 (FATAL4); 0 when unspecified.</summary>
    public int SeverityNumber { get; init; }

    /// <summary>The sender's severity text, else the name of the number's range (Information, Error, ...).</summary>
    public string Severity { get; init; } = string.Empty;

    public string Body { get; init; } = string.Empty;
    public string Scope { get; init; } = string.Empty;
    public string? TraceId { get; init; }
    public string? SpanId { get; init; }
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = EmptyAttributes.Instance;
}

internal static class EmptyAttributes
{
    public static readonly IReadOnlyDictionary<string, string> Instance = new Dictionary<string, string>();
}

/// <summary>Conversions of OTLP's nanoseconds since the Unix epoch.</summary>
internal static class UnixNanos
{
    public static DateTimeOffset ToTime(ulong unixNano) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)(unixNano / TimeSpan.NanosecondsPerTick));

    public static double ToMilliseconds(ulong nanos) => nanos / 1_000_000.0;

    /// <summary><paramref name="end"/> - <paramref name="start"/> in milliseconds, 0 when the end is not after the start.</summary>
    public static double Span(ulong start, ulong end) => end > start ? ToMilliseconds(end - start) : 0;
}
