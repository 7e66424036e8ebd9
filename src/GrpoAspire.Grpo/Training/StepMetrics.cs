namespace GrpoAspire.Grpo.Training;

/// <summary>What one GRPO step did, in the names TRL logs (snake_case in metrics.jsonl).</summary>
public sealed record StepMetrics
{
    public int Step { get; init; }
    public double Loss { get; init; }
    public double Reward { get; init; }
    public double RewardStd { get; init; }
    public IReadOnlyDictionary<string, double> RewardsByFunction { get; init; } = new Dictionary<string, double>();
    public double SuccessRate { get; init; }
    public double FormatRate { get; init; }
    public double Kl { get; init; }
    public double ClipRatioLow { get; init; }
    public double ClipRatioHigh { get; init; }
    public double ClipRatioRegion { get; init; }
    public double FracRewardZeroStd { get; init; }
    public double CompletionLengthMean { get; init; }
    public double TruncatedRatio { get; init; }
    public double LearningRate { get; init; }
    public double GradNorm { get; init; }
    public double TokensPerSecond { get; init; }
    public double StepSeconds { get; init; }

    /// <summary>Seconds spent scoring the completions (0 when the generation service scored them).</summary>
    public double ScoreSeconds { get; init; }

    /// <summary>Seconds of the no-grad log-prob passes before the update: the reference model's, and the old policy's when mu > 1.</summary>
    public double LogProbSeconds { get; init; }

    /// <summary>Seconds of the policy update itself: forward, backward, clipping and optimizer steps.</summary>
    public double OptimizeSeconds { get; init; }

    /// <summary>Seconds the trainer waited for the step's rollouts (sampling not hidden behind the previous update).</summary>
    public double RolloutWaitSeconds { get; init; }

    /// <summary>Policy versions between the one trained and the ones that sampled the step's rollouts (0 = on-policy).</summary>
    public double StalenessMean { get; init; }

    public double StalenessMax { get; init; }

    /// <summary>
    /// The sampler against the proximal policy over the tokens of the rows that were run (importance weights and log-prob
    /// differences); null when no row was run (every advantage 0).
    /// </summary>
    public Math.SamplerMetrics? Sampler { get; init; }
}
