using System.Diagnostics.Metrics;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Trainer.Training;

/// <summary>The step's numbers as OpenTelemetry metrics (meter "GrpoAspire"), next to metrics.jsonl and TensorBoard.</summary>
internal static class TrainerMetrics
{
    private static readonly Gauge<int> Step = GrpoTelemetry.Meter.CreateGauge<int>("grpo.trainer.step");
    private static readonly Gauge<double> Reward = GrpoTelemetry.Meter.CreateGauge<double>("grpo.trainer.reward");
    private static readonly Gauge<double> SuccessRate = GrpoTelemetry.Meter.CreateGauge<double>("grpo.trainer.success_rate");
    private static readonly Gauge<double> Kl = GrpoTelemetry.Meter.CreateGauge<double>("grpo.trainer.kl");
    private static readonly Gauge<double> Loss = GrpoTelemetry.Meter.CreateGauge<double>("grpo.trainer.loss");
    private static readonly Gauge<double> TokensPerSecond = GrpoTelemetry.Meter.CreateGauge<double>("grpo.trainer.tokens_per_second");
    private static readonly Histogram<double> StepSeconds = GrpoTelemetry.Meter.CreateHistogram<double>("grpo.trainer.step_seconds", "s");
    private static readonly Gauge<long> QueueLength = GrpoTelemetry.Meter.CreateGauge<long>("grpo.jobs.queue_length", description: "entries in the run's job stream");
    private static readonly Gauge<long> QueuePending = GrpoTelemetry.Meter.CreateGauge<long>("grpo.jobs.pending", description: "jobs read by a replica and not yet acknowledged");

    public static void Record(StepMetrics metrics, long queueLength, long pending)
    {
        Step.Record(metrics.Step);
        Reward.Record(metrics.Reward);
        SuccessRate.Record(metrics.SuccessRate);
        Kl.Record(metrics.Kl);
        Loss.Record(metrics.Loss);
        TokensPerSecond.Record(metrics.TokensPerSecond);
        StepSeconds.Record(metrics.StepSeconds);
        QueueLength.Record(queueLength);
        QueuePending.Record(pending);
    }
}
