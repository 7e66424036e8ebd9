using System.Diagnostics.Metrics;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Trainer.Training;

/// <summary>
/// The step's numbers as OpenTelemetry metrics (meter "GrpoAspire"), next to metrics.jsonl and TensorBoard: one
/// point per step, recorded with <c>grpo.trainer.step</c> so a dashboard can put them on the step axis. Units as
/// UCUM, as OpenTelemetry's conventions ask ("1" for ratios, "{token}" for counted tokens).
/// </summary>
internal static class TrainerMetrics
{
    private static readonly Gauge<int> Step = GrpoTelemetry.Meter.CreateGauge<int>(
        "grpo.trainer.step", "{step}", "optimizer steps done");

    private static readonly Gauge<double> Reward = GrpoTelemetry.Meter.CreateGauge<double>(
        "grpo.trainer.reward", "1", "mean total reward of the step's completions");

    private static readonly Gauge<double> SuccessRate = GrpoTelemetry.Meter.CreateGauge<double>(
        "grpo.trainer.success_rate", "1", "share of the step's completions that solved their task");

    private static readonly Gauge<double> Kl = GrpoTelemetry.Meter.CreateGauge<double>(
        "grpo.trainer.kl", "1", "mean per-token KL divergence of the policy from the reference");

    private static readonly Gauge<double> Loss = GrpoTelemetry.Meter.CreateGauge<double>(
        "grpo.trainer.loss", "1", "GRPO loss of the step");

    private static readonly Gauge<double> CompletionLength = GrpoTelemetry.Meter.CreateGauge<double>(
        "grpo.trainer.completion_length", "{token}", "mean completion length of the step");

    private static readonly Gauge<double> TokensPerSecond = GrpoTelemetry.Meter.CreateGauge<double>(
        "grpo.trainer.tokens_per_second", "{token}/s", "prompt and completion tokens of the step per second of the step");

    private static readonly Histogram<double> StepSeconds = GrpoTelemetry.Meter.CreateHistogram<double>(
        "grpo.trainer.step_seconds", "s", "wall time of one step: rollouts, scoring, log-probs and update");

    private static readonly Histogram<double> RolloutWaitSeconds = GrpoTelemetry.Meter.CreateHistogram<double>(
        "grpo.trainer.rollout_wait_seconds", "s", "time a step waited for its rollouts (sampling not overlapped with training)");

    private static readonly Gauge<double> Staleness = GrpoTelemetry.Meter.CreateGauge<double>(
        "grpo.trainer.staleness", "{version}", "mean policy versions between the trained policy and the samplers of the step's rollouts");

    private static readonly Gauge<double> ImportanceWeight = GrpoTelemetry.Meter.CreateGauge<double>(
        "grpo.trainer.importance_weight", "1", "mean importance weight pi_proximal / pi_sampler of the step's tokens, before truncation");

    private static readonly Gauge<long> QueueLength = GrpoTelemetry.Meter.CreateGauge<long>(
        "grpo.jobs.queue_length", "{job}", "entries in the run's job stream");

    private static readonly Gauge<long> QueuePending = GrpoTelemetry.Meter.CreateGauge<long>(
        "grpo.jobs.pending", "{job}", "jobs read by a replica and not yet acknowledged");

    public static void Record(StepMetrics metrics, long queueLength, long pending)
    {
        Step.Record(metrics.Step);
        Reward.Record(metrics.Reward);
        SuccessRate.Record(metrics.SuccessRate);
        Kl.Record(metrics.Kl);
        Loss.Record(metrics.Loss);
        CompletionLength.Record(metrics.CompletionLengthMean);
        TokensPerSecond.Record(metrics.TokensPerSecond);
        StepSeconds.Record(metrics.StepSeconds);
        RolloutWaitSeconds.Record(metrics.RolloutWaitSeconds);
        Staleness.Record(metrics.StalenessMean);
        if (metrics.Sampler is { } sampler)
        {
            ImportanceWeight.Record(sampler.WeightMean);
        }

        QueueLength.Record(queueLength);
        QueuePending.Record(pending);
    }
}
