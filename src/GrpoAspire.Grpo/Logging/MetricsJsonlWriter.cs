using System.Text.Json;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Grpo.Logging;

/// <summary>Appends one JSON object per step to <c>metrics.jsonl</c> (TRL's metric names, snake_case).</summary>
public sealed class MetricsJsonlWriter(string path) : IDisposable
{
    public const string FileName = "metrics.jsonl";

    private readonly StreamWriter _writer = new(path, append: true) { AutoFlush = true };

    public void Write(StepMetrics m) => _writer.WriteLine(JsonSerializer.Serialize(Fields(m)));

    /// <summary>
    /// Every number of a step by its logged name (TRL's names where TRL has one); the <c>sampling/</c> ones only when rows
    /// were run.
    /// </summary>
    public static Dictionary<string, double> Fields(StepMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var record = new Dictionary<string, double>
        {
            ["step"] = m.Step,
            ["loss"] = m.Loss,
            ["reward"] = m.Reward,
            ["reward_std"] = m.RewardStd,
            ["success_rate"] = m.SuccessRate,
            ["format_rate"] = m.FormatRate,
            ["kl"] = m.Kl,
            ["clip_ratio/low_mean"] = m.ClipRatioLow,
            ["clip_ratio/high_mean"] = m.ClipRatioHigh,
            ["clip_ratio/region_mean"] = m.ClipRatioRegion,
            ["frac_reward_zero_std"] = m.FracRewardZeroStd,
            ["completion_length"] = m.CompletionLengthMean,
            ["truncated_ratio"] = m.TruncatedRatio,
            ["learning_rate"] = m.LearningRate,
            ["grad_norm"] = m.GradNorm,
            ["tokens_per_second"] = m.TokensPerSecond,
            ["step_seconds"] = m.StepSeconds,
            ["score_seconds"] = m.ScoreSeconds,
            ["logprob_seconds"] = m.LogProbSeconds,
            ["optimize_seconds"] = m.OptimizeSeconds,
            ["rollout_wait_seconds"] = m.RolloutWaitSeconds,
            ["staleness/mean"] = m.StalenessMean,
            ["staleness/max"] = m.StalenessMax,
        };
        if (m.Sampler is { } sampler)
        {
            record["sampling/importance_sampling_ratio/mean"] = sampler.WeightMean;
            record["sampling/importance_sampling_ratio/min"] = sampler.WeightMin;
            record["sampling/importance_sampling_ratio/max"] = sampler.WeightMax;
            record["sampling/importance_sampling_ratio/truncated_fraction"] = sampler.TruncatedFraction;
            record["sampling/sampling_logp_difference/mean"] = sampler.LogpDifferenceMean;
            record["sampling/sampling_logp_difference/max"] = sampler.LogpDifferenceMax;
        }

        foreach (var (name, value) in m.RewardsByFunction)
        {
            record[$"rewards/{name}"] = value;
        }

        return record;
    }

    public void Dispose() => _writer.Dispose();
}
