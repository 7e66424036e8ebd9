using GrpoAspire.Dashboard.Resources;

namespace GrpoAspire.Dashboard.Api;

/// <summary>A line of <c>/api/resources</c>.</summary>
public sealed record ResourceView(
    string Name,
    ResourceType Type,
    ResourceState State,
    ResourceHealth Health,
    IReadOnlyList<ResourceEndpoint> Endpoints,
    int Restarts,
    int? Pid,
    DateTimeOffset? StartedAt,
    int? ExitCode)
{
    public static ResourceView From(ResourceSnapshot resource) => new(
        resource.Name,
        resource.Type,
        resource.State,
        resource.Health,
        resource.Endpoints,
        resource.Restarts,
        resource.ProcessId,
        resource.StartedAt,
        resource.ExitCode);
}

/// <summary><c>/api/resources/{name}/logs</c>: the newest lines, oldest first.</summary>
/// <param name="TotalLines">Lines the resource wrote since the start, kept or not.</param>
public sealed record ConsoleLogsView(string Resource, long TotalLines, IReadOnlyList<ConsoleLogLine> Lines);

/// <summary><c>/api/metrics/{name}</c>: the points of one metric, by time.</summary>
public sealed record MetricPointsView(string Name, string Kind, string Unit, IReadOnlyList<MetricPointView> Points);

public sealed record MetricPointView(
    DateTimeOffset Time,
    string Service,
    double? Value,
    ulong? Count,
    double? Sum,
    double? Min,
    double? Max,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>A line of <c>/api/logs</c>.</summary>
public sealed record LogView(
    DateTimeOffset Time,
    string Service,
    string Severity,
    int SeverityNumber,
    string Body,
    string Scope,
    string? TraceId,
    string? SpanId,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary><c>/api/completions</c>: the newest samples first.</summary>
public sealed record CompletionsView(bool Configured, IReadOnlyList<Completions.CompletionSample> Samples);

/// <summary><c>/api/info</c>: where to send telemetry, what is held and the limits.</summary>
public sealed record DashboardInfo(
    string OtlpGrpcUrl,
    string OtlpHttpUrl,
    int Spans,
    int MetricPoints,
    int LogRecords,
    int MaxSpans,
    int MaxMetricPoints,
    int MaxLogRecords);
