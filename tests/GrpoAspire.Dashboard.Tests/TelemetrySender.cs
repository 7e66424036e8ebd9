using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>
/// Sends telemetry the way the services do: the OpenTelemetry SDK with its OTLP exporter, one provider per
/// service.name. Source and meter names are unique per call, because activity listeners are process-wide
/// and test classes run in parallel: another test's provider must not pick up these spans.
/// </summary>
internal static class TelemetrySender
{
    public static readonly string[] StepServices = ["trainer", "generation", "reward"];

    /// <summary>
    /// One GRPO step as one trace across three services: trainer.step -> trainer.generate ->
    /// generation.rollouts (generation) -> reward.score (reward), then trainer.optimize and weights.sync.
    /// </summary>
    public static ActivityTraceId SendStepTrace(Uri endpoint, OtlpExportProtocol protocol)
    {
        var id = Guid.NewGuid().ToString("N");
        var sources = StepServices.ToDictionary(service => service, service => new ActivitySource($"dashboard-test.{service}.{id}"));
        var providers = StepServices.Select(service => Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(service))
            .AddSource(sources[service].Name)
            .AddOtlpExporter(options =>
            {
                options.Protocol = protocol;
                options.Endpoint = Signal(endpoint, protocol, "v1/traces");
                options.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build()).ToList();
        try
        {
            ActivityTraceId traceId;
            using (var step = sources["trainer"].StartActivity("trainer.step")!)
            {
                traceId = step.TraceId;
                step.SetTag("grpo.step", 1);
                using (var generate = sources["trainer"].StartActivity("trainer.generate")!)
                {
                    using var rollouts = sources["generation"].StartActivity("generation.rollouts", ActivityKind.Consumer, generate.Context)!;
                    rollouts.SetTag("grpo.jobs", 4);
                    using var score = sources["reward"].StartActivity("reward.score", ActivityKind.Server, rollouts.Context)!;
                    score.SetTag("grpo.completions", 16);
                }

                using (sources["trainer"].StartActivity("trainer.optimize"))
                {
                }

                using (sources["trainer"].StartActivity("weights.sync"))
                {
                }
            }

            foreach (var provider in providers)
            {
                Assert.True(provider.ForceFlush(10_000), "the OTLP trace exporter did not flush");
            }

            return traceId;
        }
        finally
        {
            providers.ForEach(provider => provider.Dispose());
            foreach (var source in sources.Values)
            {
                source.Dispose();
            }
        }
    }

    /// <summary>The trainer's gauges (as TrainerMetrics records them), one collection and export per step.</summary>
    public static void SendTrainerMetrics(Uri endpoint, OtlpExportProtocol protocol, IReadOnlyList<(int Step, double Reward)> steps)
    {
        using var meter = new Meter($"dashboard-test.trainer.{Guid.NewGuid():N}");
        var step = meter.CreateGauge<int>("grpo.trainer.step");
        var reward = meter.CreateGauge<double>("grpo.trainer.reward");
        var successRate = meter.CreateGauge<double>("grpo.trainer.success_rate");
        var kl = meter.CreateGauge<double>("grpo.trainer.kl");
        var tokensPerSecond = meter.CreateGauge<double>("grpo.trainer.tokens_per_second");
        var stepSeconds = meter.CreateHistogram<double>("grpo.trainer.step_seconds", "s");
        using var provider = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("trainer"))
            .AddMeter(meter.Name)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Protocol = protocol;
                exporter.Endpoint = Signal(endpoint, protocol, "v1/metrics");
                // Exports only when flushed below: one export per step, as a slow training step would.
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
            })
            .Build();
        foreach (var (number, value) in steps)
        {
            step.Record(number);
            reward.Record(value);
            successRate.Record(value / 2);
            kl.Record(0.01 * number);
            tokensPerSecond.Record(1000 + number);
            stepSeconds.Record(1.5);
            Assert.True(provider.ForceFlush(10_000), "the OTLP metric exporter did not flush");
        }
    }

    /// <summary>gRPC takes the base address; the HTTP exporter configured in code takes the full signal URL.</summary>
    private static Uri Signal(Uri endpoint, OtlpExportProtocol protocol, string path) =>
        protocol == OtlpExportProtocol.Grpc ? endpoint : new Uri(endpoint, path);
}
