using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>
/// The OpenTelemetry SDK's own OTLP exporter (what every service uses) into a dashboard on free ports, once
/// over gRPC (HTTP/2) and once over OTLP/HTTP protobuf.
/// </summary>
public sealed class OtlpExportTests
{
    public static TheoryData<OtlpExportProtocol> Protocols => [OtlpExportProtocol.Grpc, OtlpExportProtocol.HttpProtobuf];

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task SpansOfThreeServicesSharingOneTraceShowAsOneTraceWithTheThreeServices(OtlpExportProtocol protocol)
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var api = new DashboardApiClient(dashboard);

        var traceId = TelemetrySender.SendStepTrace(Endpoint(dashboard, protocol), protocol);

        var trace = Assert.Single(await api.TracesAsync());
        Assert.Equal(traceId.ToHexString(), trace.TraceId);
        Assert.Equal("trainer.step", trace.RootName);
        Assert.Equal("trainer", trace.RootService);
        Assert.Equal(["trainer", "generation", "reward"], trace.Services);
        Assert.Equal(6, trace.SpanCount);

        var detail = await api.TraceAsync(trace.TraceId);
        Assert.NotNull(detail);
        Assert.Equal(
            ["trainer.step", "trainer.generate", "generation.rollouts", "reward.score", "trainer.optimize", "weights.sync"],
            detail.Spans.Select(span => span.Name));
        Assert.Equal([0, 1, 2, 3, 1, 1], detail.Spans.Select(span => span.Depth));
        var byName = detail.Spans.ToDictionary(span => span.Name);
        Assert.Null(byName["trainer.step"].ParentSpanId);
        Assert.Equal(byName["trainer.generate"].SpanId, byName["generation.rollouts"].ParentSpanId);
        Assert.Equal(byName["generation.rollouts"].SpanId, byName["reward.score"].ParentSpanId);
        Assert.Equal("generation", byName["generation.rollouts"].Service);
        Assert.Equal("reward", byName["reward.score"].Service);
        Assert.Equal("server", byName["reward.score"].Kind);
        Assert.Equal("16", byName["reward.score"].Attributes["grpo.completions"]);
        Assert.All(detail.Spans, span => Assert.InRange(span.StartOffsetMs, 0, detail.DurationMs));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task TrainerGaugesBecomeCurvesByStep(OtlpExportProtocol protocol)
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var api = new DashboardApiClient(dashboard);

        TelemetrySender.SendTrainerMetrics(Endpoint(dashboard, protocol), protocol, [(1, 0.25), (2, 0.5), (3, 0.75)]);

        var curves = await api.CurvesAsync();
        var reward = Assert.Single(curves.Curves, curve => curve.Metric == "grpo.trainer.reward");
        Assert.Equal("trainer", reward.Service);
        Assert.Equal([1L, 2L, 3L], reward.Points.Select(point => point.Step));
        Assert.Equal([0.25, 0.5, 0.75], reward.Points.Select(point => point.Value));
        var kl = Assert.Single(curves.Curves, curve => curve.Metric == "grpo.trainer.kl");
        Assert.Equal([0.01, 0.02, 0.03], kl.Points.Select(point => Math.Round(point.Value, 6)));
        Assert.Contains(curves.Curves, curve => curve.Metric == "grpo.trainer.success_rate" && curve.Points.Count == 3);
        Assert.Contains(curves.Curves, curve => curve.Metric == "grpo.trainer.tokens_per_second" && curve.Points[^1].Value == 1003);

        var metrics = await api.MetricsAsync();
        var stepSeconds = Assert.Single(metrics, metric => metric.Name == "grpo.trainer.step_seconds");
        Assert.Equal("histogram", stepSeconds.Kind);
        Assert.Equal("s", stepSeconds.Unit);
        Assert.Equal(["trainer"], stepSeconds.Services);
        var points = await api.GetAsync<Api.MetricPointsView>("api/metrics/grpo.trainer.step_seconds?service=trainer");
        Assert.NotNull(points);
        // Cumulative: one more observation per step (the provider's dispose exports the last state once more).
        Assert.Equal([1UL, 2UL, 3UL], points.Points.Select(point => point.Count).Distinct());
        Assert.Equal(3UL, points.Points[^1].Count);
        Assert.Equal(4.5, points.Points[^1].Sum);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task LogsArriveWithServiceSeverityAndBody(OtlpExportProtocol protocol)
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var api = new DashboardApiClient(dashboard);

        using (var loggerFactory = LoggerFactory.Create(logging => logging.AddOpenTelemetry(otel =>
        {
            otel.SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("generation"));
            otel.IncludeFormattedMessage = true;
            otel.AddOtlpExporter(exporter =>
            {
                exporter.Protocol = protocol;
                exporter.Endpoint = protocol == OtlpExportProtocol.Grpc ? dashboard.OtlpGrpcUrl : new Uri(dashboard.OtlpHttpUrl, "v1/logs");
            });
        })))
        {
            loggerFactory.CreateLogger("replica").LogWarning("replica {Replica} reclaimed {Jobs} jobs", "generation-1", 3);
        }

        var log = Assert.Single((await api.GetAsync<Api.LogView[]>("api/logs?service=generation"))!);
        Assert.Equal("generation", log.Service);
        Assert.Equal("Warning", log.Severity);
        Assert.Equal(13, log.SeverityNumber);
        Assert.Equal("replica generation-1 reclaimed 3 jobs", log.Body);
        Assert.Empty((await api.GetAsync<Api.LogView[]>("api/logs?minSeverity=17"))!);
    }

    private static Uri Endpoint(DashboardHost dashboard, OtlpExportProtocol protocol) =>
        protocol == OtlpExportProtocol.Grpc ? dashboard.OtlpGrpcUrl : dashboard.OtlpHttpUrl;
}
