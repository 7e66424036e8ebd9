using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Math;

/// <summary>The knobs of the GRPO objective (TRL names in C# casing).</summary>
public sealed record GrpoLossOptions
{
    /// <summary>KL coefficient; 0 means no reference model is needed.</summary>
    public double Beta { get; init; } = 0.0;

    public double EpsilonLow { get; init; } = 0.2;

    /// <summary>Upper clip (DAPO's clip-higher uses 0.28).</summary>
    public double EpsilonHigh { get; init; } = 0.2;

    public LossType LossType { get; init; } = LossType.Grpo;

    /// <summary>Denominator of dr_grpo.</summary>
    public int MaxCompletionLength { get; init; } = 256;

    /// <summary>Active completion tokens of the whole accumulated batch (dapo); null = this batch's own count.</summary>
    public double? GlobalActiveTokens { get; init; }

    /// <summary>
    /// Sequences the grpo and dr_grpo means divide by; null = this batch's rows. Set when rows that cannot move the
    /// loss (advantage 0, on-policy, no KL) were left out of the batch, so the reduction is that of the whole batch.
    /// </summary>
    public double? Sequences { get; init; }

    /// <summary>Active completion tokens the bnpo mean divides by; null = this batch's mask. Set as <see cref="Sequences"/>.</summary>
    public double? ActiveTokens { get; init; }

    /// <summary>
    /// Truncation of the sampler importance weights (TRL's vllm_importance_sampling_cap); null = no correction, the
    /// sampling log-probs only measured.
    /// </summary>
    public double? ImportanceSamplingCap { get; init; }
}

/// <summary>What the loss saw, for logs (all masked means over completion tokens).</summary>
public sealed record LossMetrics(double MeanKl, double ClipRatioLow, double ClipRatioHigh, double ClipRatioRegion)
{
    /// <summary>How the sampler's policy differed from the proximal one; null when no sampling log-probs were given.</summary>
    public SamplerMetrics? Sampler { get; init; }
}

/// <summary>
/// The sampler against the proximal policy, over active tokens: the importance weights pi_prox / pi_sampler before
/// truncation (mean, min, max), the share above the cap, and |log pi_prox - log pi_sampler| (mean, max), as TRL and
/// verl report the training/inference mismatch.
/// </summary>
public sealed record SamplerMetrics(
    double WeightMean, double WeightMin, double WeightMax, double TruncatedFraction, double LogpDifferenceMean, double LogpDifferenceMax);

/// <summary>
/// Clipped surrogate with an optional k3 KL penalty (Schulman 2020: exp(ref - logp) - (ref - logp) - 1),
/// reduced as TRL's GRPOTrainer reduces it.
/// </summary>
/// <remarks>
/// Off-policy rollouts use the decoupled objective (Hilton et al. 2021, "Batch size-invariance for policy
/// optimization"; AReaL, Fu et al. 2025): the ratio is clipped against the proximal policy (the trainer's policy before
/// this update: <c>oldPerTokenLogps</c>, or the detached policy when there is one pass), and each token is weighted by
/// pi_prox / pi_sampler truncated at a cap (truncated importance sampling, Yao et al. 2025; TRL's
/// vllm_importance_sampling_correction). Clipping against the sampler itself would center the trust region on a policy
/// several versions old and clip most of a stale batch; the weight corrects for the sampler without that. As in TRL,
/// the weight multiplies the policy-gradient term, not the KL penalty.
/// </remarks>
public static class GrpoLoss
{
    /// <param name="perTokenLogps">[B, T] log-probs of the completion tokens under the policy (with gradients).</param>
    /// <param name="oldPerTokenLogps">[B, T] under the proximal policy (before the update's first pass); null = the detached policy.</param>
    /// <param name="refPerTokenLogps">[B, T] under the frozen reference; needed when Beta != 0.</param>
    /// <param name="advantages">[B]</param>
    /// <param name="completionMask">[B, T] 1 for real completion tokens.</param>
    /// <param name="samplingPerTokenLogps">[B, T] as the sampler computed them when it drew the tokens; null = none recorded.</param>
    public static (Tensor Loss, LossMetrics Metrics) Compute(
        Tensor perTokenLogps, Tensor? oldPerTokenLogps, Tensor? refPerTokenLogps, Tensor advantages,
        Tensor completionMask, GrpoLossOptions options, Tensor? samplingPerTokenLogps = null)
    {
        if (options.Beta != 0 && refPerTokenLogps is null)
        {
            throw new ArgumentException($"beta {options.Beta} needs reference log-probs (a reference model)");
        }

        if (options.ImportanceSamplingCap is not null && samplingPerTokenLogps is null)
        {
            throw new ArgumentException("the importance sampling correction needs the sampler's log-probs");
        }

        using var scope = NewDisposeScope();
        var mask = completionMask.to(perTokenLogps.dtype);
        var old = oldPerTokenLogps ?? perTokenLogps.detach();
        var ratio = (perTokenLogps - old).exp(); // [B, T]
        var a = advantages.to(perTokenLogps.dtype).unsqueeze(1); // [B, 1]
        var clipped = ratio.clamp(1 - options.EpsilonLow, 1 + options.EpsilonHigh);
        var perTokenLoss = -minimum(ratio * a, clipped * a);
        Tensor? weights = null;
        if (samplingPerTokenLogps is not null)
        {
            weights = (old.detach() - samplingPerTokenLogps.to(perTokenLogps.dtype)).exp(); // [B, T] pi_prox / pi_sampler
            if (options.ImportanceSamplingCap is { } cap)
            {
                perTokenLoss = perTokenLoss * weights.clamp_max(cap);
            }
        }

        Tensor? perTokenKl = null;
        if (refPerTokenLogps is not null)
        {
            var delta = refPerTokenLogps - perTokenLogps;
            perTokenKl = delta.exp() - delta - 1; // k3
            if (options.Beta != 0)
            {
                perTokenLoss = perTokenLoss + (options.Beta * perTokenKl);
            }
        }

        var loss = Reduce(perTokenLoss, mask, options);
        var metrics = Metrics(ratio.detach(), a, perTokenKl?.detach(), mask, options);
        if (weights is not null)
        {
            metrics = metrics with { Sampler = SamplerMetricsOf(weights, mask, options.ImportanceSamplingCap) };
        }

        return (loss.MoveToOuterDisposeScope(), metrics);
    }

    private static SamplerMetrics SamplerMetricsOf(Tensor weights, Tensor mask, double? cap)
    {
        var count = mask.sum();
        var active = count.clamp_min(1.0);
        var off = mask.gt(0).logical_not();
        var logDifference = weights.log().abs() * mask;
        var truncated = cap is { } c ? weights.gt(c).to(mask.dtype) : zeros_like(mask);
        // One host read; masked-out tokens are left out of the min and max.
        var packed = stack([
            count,
            (weights * mask).sum() / active,
            weights.masked_fill(off, double.PositiveInfinity).min(),
            weights.masked_fill(off, double.NegativeInfinity).max(),
            (truncated * mask).sum() / active,
            logDifference.sum() / active,
            logDifference.max(),
        ]).to(ScalarType.Float64).cpu().data<double>().ToArray();
        return packed[0] == 0
            ? new SamplerMetrics(1, 1, 1, 0, 0, 0)
            : new SamplerMetrics(packed[1], packed[2], packed[3], packed[4], packed[5], packed[6]);
    }

    private static Tensor Reduce(Tensor perTokenLoss, Tensor mask, GrpoLossOptions options)
    {
        var masked = perTokenLoss * mask;
        return options.LossType switch
        {
            LossType.Grpo => (masked.sum(1) / mask.sum(1).clamp_min(1.0)).sum() / (options.Sequences ?? perTokenLoss.shape[0]),
            LossType.Bnpo => options.ActiveTokens is { } active
                ? masked.sum() / System.Math.Max(active, 1.0)
                : masked.sum() / mask.sum().clamp_min(1.0),
            LossType.DrGrpo => masked.sum() / ((options.Sequences ?? perTokenLoss.shape[0]) * (double)options.MaxCompletionLength),
            LossType.Dapo => options.GlobalActiveTokens is { } total
                ? masked.sum() / System.Math.Max(total, 1.0)
                : masked.sum() / mask.sum().clamp_min(1.0),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.LossType, "valid: grpo, bnpo, dr_grpo, dapo"),
        };
    }

    private static LossMetrics Metrics(Tensor ratio, Tensor a, Tensor? perTokenKl, Tensor mask, GrpoLossOptions options)
    {
        var active = mask.sum().clamp_min(1.0);
        Tensor MaskedMean(Tensor x) => (x.to(mask.dtype) * mask).sum() / active;
        var low = ratio.lt(1 - options.EpsilonLow).logical_and(a.lt(0));
        var high = ratio.gt(1 + options.EpsilonHigh).logical_and(a.gt(0));
        // One host read for all four numbers.
        var packed = stack([
            perTokenKl is null ? zeros([], dtype: mask.dtype, device: mask.device) : MaskedMean(perTokenKl),
            MaskedMean(low), MaskedMean(high), MaskedMean(low.logical_or(high)),
        ]).to(ScalarType.Float64).cpu().data<double>().ToArray();
        return new LossMetrics(packed[0], packed[1], packed[2], packed[3]);
    }
}
