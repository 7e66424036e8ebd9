using GrpoAspire.Grpo.Math;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

/// <summary>
/// The off-policy terms of <see cref="GrpoLoss"/> against values worked out by hand from the formula:
/// per token -min(r A, clip(r) A) * min(pi_prox / pi_sampler, cap) + beta k3, r = pi / pi_prox.
/// </summary>
public sealed class OffPolicyLossTests
{
    private const double Tolerance = 1e-5;

    private static readonly GrpoLossOptions Options = new() { Beta = 0, LossType = LossType.Grpo, ImportanceSamplingCap = 2.0 };

    private static Tensor Row(params double[] values) => tensor(values.Select(v => (float)v).ToArray()).unsqueeze(0);

    private static Tensor Logps(params double[] values) => Row(values).requires_grad_(true);

    [Fact]
    public void AFreshTokenHasWeightOneAndTheOnPolicyLoss()
    {
        using var logps = Logps(-1.0, -2.0);
        var (loss, metrics) = GrpoLoss.Compute(logps, null, null, tensor(new[] { 1.5f }), Row(1, 1), Options, Row(-1.0, -2.0));
        var (plain, _) = GrpoLoss.Compute(logps, null, null, tensor(new[] { 1.5f }), Row(1, 1), Options with { ImportanceSamplingCap = null });

        Assert.Equal(-1.5, loss.item<float>(), Tolerance);
        Assert.Equal(plain.item<float>(), loss.item<float>(), Tolerance);
        Assert.Equal(1.0, metrics.Sampler!.WeightMean, Tolerance);
        Assert.Equal(0.0, metrics.Sampler.LogpDifferenceMax, Tolerance);
    }

    [Fact]
    public void StaleTokensAreWeightedByTheProximalOverTheSamplerProbability()
    {
        // One pass: the proximal policy is the policy itself, r = 1. Weights exp(0.2), exp(-0.5), exp(0).
        using var logps = Logps(-1.0, -2.0, -0.5);
        var (loss, metrics) = GrpoLoss.Compute(logps, null, null, tensor(new[] { 1.0f }), Row(1, 1, 1), Options, Row(-1.2, -1.5, -0.5));
        var w = new[] { System.Math.Exp(0.2), System.Math.Exp(-0.5), 1.0 };

        Assert.Equal(-w.Sum() / 3, loss.item<float>(), Tolerance);
        loss.backward();
        var gradient = logps.grad!.squeeze(0).data<float>().ToArray();
        for (var t = 0; t < 3; t++)
        {
            Assert.Equal(-w[t] / 3, gradient[t], Tolerance); // d(-r A w)/d logp = -r A w, r = 1
        }

        Assert.Equal(w.Average(), metrics.Sampler!.WeightMean, Tolerance);
        Assert.Equal(w.Min(), metrics.Sampler.WeightMin, Tolerance);
        Assert.Equal(w.Max(), metrics.Sampler.WeightMax, Tolerance);
        Assert.Equal(0.5, metrics.Sampler.LogpDifferenceMax, Tolerance);
        Assert.Equal(0.7 / 3, metrics.Sampler.LogpDifferenceMean, Tolerance);
        Assert.Equal(0.0, metrics.Sampler.TruncatedFraction);
    }

    [Fact]
    public void WeightsAboveTheCapAreTruncated()
    {
        // exp(2) = 7.39 is cut to the cap 2; exp(0.5) = 1.65 is kept.
        using var logps = Logps(-1.0, -1.0);
        var (loss, metrics) = GrpoLoss.Compute(logps, null, null, tensor(new[] { -1.0f }), Row(1, 1), Options, Row(-3.0, -1.5));

        Assert.Equal((2.0 + System.Math.Exp(0.5)) / 2, loss.item<float>(), Tolerance);
        Assert.Equal(0.5, metrics.Sampler!.TruncatedFraction, Tolerance);
        Assert.Equal(System.Math.Exp(2.0), metrics.Sampler.WeightMax, 1e-4);
    }

    [Fact]
    public void MaskedTokensNeitherMoveTheLossNorTheMetrics()
    {
        // The third token's weight would be exp(5); it is padding.
        using var logps = Logps(-1.0, -1.0, -1.0);
        var (loss, metrics) = GrpoLoss.Compute(logps, null, null, tensor(new[] { 1.0f }), Row(1, 1, 0), Options, Row(-1.0, -1.1, -6.0));

        Assert.Equal(-(1.0 + System.Math.Exp(0.1)) / 2, loss.item<float>(), Tolerance);
        Assert.Equal(System.Math.Exp(0.1), metrics.Sampler!.WeightMax, Tolerance);
        Assert.Equal(0.0, metrics.Sampler.TruncatedFraction);
    }

    [Fact]
    public void WithSeveralPassesTheRatioIsClippedAgainstTheProximalPolicyAndTheWeightUsesIt()
    {
        // pi_prox = old: r = exp(0.1), exp(-0.1) (inside the clip), w = exp(-1 - (-1.5)) = exp(0.5) for both.
        using var logps = Logps(-0.9, -1.1);
        var (loss, _) = GrpoLoss.Compute(logps, Row(-1.0, -1.0), null, tensor(new[] { 1.0f }), Row(1, 1), Options, Row(-1.5, -1.5));

        var expected = -(System.Math.Exp(0.1) + System.Math.Exp(-0.1)) * System.Math.Exp(0.5) / 2;
        Assert.Equal(expected, loss.item<float>(), Tolerance);
    }

    [Fact]
    public void TheKlPenaltyIsNotWeighted()
    {
        // -r A w + beta k3, r = 1, A = 2, w = exp(0.5), k3 = exp(ref - logp) - (ref - logp) - 1 with ref - logp = 0.2.
        using var logps = Logps(-1.2);
        var (loss, _) = GrpoLoss.Compute(logps, null, Row(-1.0), tensor(new[] { 2.0f }), Row(1), Options with { Beta = 0.1 }, Row(-1.7));

        var expected = (-2.0 * System.Math.Exp(0.5)) + (0.1 * (System.Math.Exp(0.2) - 0.2 - 1));
        Assert.Equal(expected, loss.item<float>(), Tolerance);
    }

    [Fact]
    public void WithTheCorrectionOffTheSamplerIsMeasuredButNotWeighted()
    {
        using var logps = Logps(-1.0);
        var (loss, metrics) = GrpoLoss.Compute(
            logps, null, null, tensor(new[] { 1.0f }), Row(1), Options with { ImportanceSamplingCap = null }, Row(-1.4));

        Assert.Equal(-1.0, loss.item<float>(), Tolerance);
        Assert.Equal(System.Math.Exp(0.4), metrics.Sampler!.WeightMean, Tolerance);
    }

    [Fact]
    public void TheCorrectionWithoutSamplingLogProbsIsRefused()
    {
        using var logps = Logps(-1.0);
        var error = Assert.Throws<ArgumentException>(() => GrpoLoss.Compute(logps, null, null, tensor(new[] { 1.0f }), Row(1), Options));
        Assert.Contains("sampler's log-probs", error.Message);
    }
}
