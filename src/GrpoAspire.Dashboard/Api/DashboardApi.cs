using GrpoAspire.Dashboard.Completions;
using GrpoAspire.Dashboard.Resources;
using GrpoAspire.Dashboard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GrpoAspire.Dashboard.Api;

/// <summary>
/// The JSON API under <c>/api/</c> that the web UI polls and tests read. Read-only; every list is bounded by
/// the store and by a clamped <c>limit</c>/<c>tail</c> query parameter.
/// </summary>
internal static class DashboardApi
{
    public const int DefaultTail = 500;
    public const int DefaultTraceLimit = 100;
    public const int MaxTraceLimit = 1_000;
    public const int DefaultCompletionLimit = 20;
    public const int MaxCompletionLimit = 200;
    public const int DefaultLogLimit = 500;
    public const int MaxLogLimit = 5_000;

    public static void MapDashboardApi(this IEndpointRouteBuilder endpoints, DashboardContext dashboard)
    {
        var api = endpoints.MapGroup("/api");

        api.MapGet("/info", () => new DashboardInfo(
            dashboard.OtlpGrpcUrl,
            dashboard.OtlpHttpUrl,
            dashboard.Store.Traces.SpanCount,
            dashboard.Store.Metrics.PointCount,
            dashboard.Store.Logs.Count,
            dashboard.Options.MaxSpans,
            dashboard.Options.MaxMetricPoints,
            dashboard.Options.MaxLogRecords));

        api.MapGet("/resources", () => dashboard.Catalog.GetResources().Select(ResourceView.From).ToArray());

        api.MapGet("/resources/{name}/logs", (string name, int? tail) =>
            dashboard.Catalog.GetConsoleLogs(name) is { } buffer
                ? Results.Ok(new ConsoleLogsView(name, buffer.TotalLines, buffer.Tail(Math.Clamp(tail ?? DefaultTail, 1, buffer.Capacity))))
                : Results.NotFound(new { error = $"no resource named '{name}'" }));

        api.MapGet("/traces", (int? limit) => dashboard.Store.Traces.List(Math.Clamp(limit ?? DefaultTraceLimit, 1, MaxTraceLimit)));

        api.MapGet("/traces/{traceId}", (string traceId) =>
            dashboard.Store.Traces.Get(traceId) is { } trace
                ? Results.Ok(trace)
                : Results.NotFound(new { error = $"no trace '{traceId}' (never received, or dropped as the oldest)" }));

        api.MapGet("/metrics", () => dashboard.Store.Metrics.List());

        api.MapGet("/metrics/{name}", (string name, string? service, int? limit) =>
        {
            var points = dashboard.Store.Metrics.Points(name, string.IsNullOrEmpty(service) ? null : service);
            if (points is null)
            {
                return Results.NotFound(new { error = $"no metric named '{name}'" });
            }

            var summary = dashboard.Store.Metrics.Find(name);
            var ordered = points.OrderBy(point => point.TimeUnixNano).ThenBy(point => point.Batch).ToList();
            var take = Math.Clamp(limit ?? ordered.Count, 0, ordered.Count);
            return Results.Ok(new MetricPointsView(
                name,
                summary?.Kind ?? string.Empty,
                summary?.Unit ?? string.Empty,
                ordered.Skip(ordered.Count - take).Select(point => new MetricPointView(
                    UnixNanos.ToTime(point.TimeUnixNano), point.Service, point.Value, point.Count, point.Sum, point.Min, point.Max, point.Attributes)).ToArray()));
        });

        api.MapGet("/curves", () => TrainingCurves.Build(dashboard.Store.Metrics));

        api.MapGet("/logs", (string? service, int? minSeverity, int? limit) =>
            dashboard.Store.Logs
                .Query(string.IsNullOrEmpty(service) ? null : service, minSeverity ?? 0, Math.Clamp(limit ?? DefaultLogLimit, 1, MaxLogLimit))
                .Select(entry => new LogView(entry.Time, entry.Service, entry.Severity, entry.SeverityNumber, entry.Body, entry.Scope, entry.TraceId, entry.SpanId, entry.Attributes))
                .ToArray());

        api.MapGet("/completions", (int? limit) =>
        {
            var max = Math.Clamp(limit ?? DefaultCompletionLimit, 1, MaxCompletionLimit);
            var samples = dashboard.Completions?.GetLatest(max) ?? [];
            return new CompletionsView(dashboard.Completions is not null, samples.Take(max).ToArray());
        });
    }
}

/// <summary>What the API reads: the host's catalog and completion source, the store, the OTLP addresses.</summary>
internal sealed record DashboardContext(
    DashboardOptions Options,
    IResourceCatalog Catalog,
    ICompletionSource? Completions,
    TelemetryStore Store,
    string OtlpGrpcUrl,
    string OtlpHttpUrl);
