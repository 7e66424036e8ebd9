using System.ComponentModel.DataAnnotations;

namespace GrpoAspire.Dashboard;

/// <summary>
/// Where the dashboard listens and how much it keeps. Every limit bounds memory or work per request: the
/// dashboard receives telemetry from any local process and must stay small however much arrives.
/// </summary>
public sealed record DashboardOptions
{
    public const string SectionName = "Dashboard";

    /// <summary>The address all three endpoints bind. Loopback by default: the UI and API have no login.</summary>
    [Required]
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Web UI and JSON API (Aspire's dashboard port). 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int UiPort { get; init; } = 18888;

    /// <summary>OTLP over gRPC (HTTP/2 only): the services' <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>. 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int OtlpGrpcPort { get; init; } = 18889;

    /// <summary>OTLP over HTTP/protobuf: <c>POST /v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>. 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int OtlpHttpPort { get; init; } = 18890;

    /// <summary>Largest OTLP request accepted (gRPC message or HTTP body, after gzip); 4 MiB as the OpenTelemetry Collector.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxMessageBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Spans kept, oldest dropped first; a trace disappears with its last span.</summary>
    [Range(1, 1_000_000)]
    public int MaxSpans { get; init; } = 20_000;

    /// <summary>Metric data points kept over all series, oldest dropped first.</summary>
    [Range(1, 1_000_000)]
    public int MaxMetricPoints { get; init; } = 50_000;

    /// <summary>Structured log records kept, oldest dropped first.</summary>
    [Range(1, 1_000_000)]
    public int MaxLogRecords { get; init; } = 10_000;

    /// <summary>
    /// Approximate memory each signal (spans, metric points, log records) may hold; the oldest items go first
    /// when it is reached. The counts above bound typical telemetry; this bounds a sender that fills every item
    /// with the largest attributes allowed.
    /// </summary>
    [Range(typeof(long), "1048576", "17179869184")]
    public long MaxBytesPerSignal { get; init; } = 64L * 1024 * 1024;

    /// <summary>Longest attribute value, span name or log body kept, in characters; longer ones end in "…".</summary>
    [Range(16, 1_000_000)]
    public int MaxAttributeLength { get; init; } = 1024;

    /// <summary>Attributes kept per span, data point or log record; the rest are counted, not kept.</summary>
    [Range(0, 1024)]
    public int MaxAttributesPerItem { get; init; } = 64;

    /// <summary>Simultaneous connections per endpoint.</summary>
    [Range(1, 100_000)]
    public int MaxConnections { get; init; } = 256;
}
