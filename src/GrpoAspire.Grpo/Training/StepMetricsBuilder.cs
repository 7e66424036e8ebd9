using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Grpo.Training;

internal static class StepMetricsBuilder
{
    public static StepMetrics Build(
        int step, IReadOnlyList<ScoredCompletion> completions, GrpoRecipe recipe, UpdateSummary update, double learningRate, long trainedVersion)
    {
        var staleness = completions.Select(c => (double)(trainedVersion - c.PolicyVersion)).ToArray();
        var totals = completions.Select(c => c.Reward.Total).ToArray();
        var mean = totals.Average();
        var std = System.Math.Sqrt(totals.Select(t => (t - mean) * (t - mean)).Sum() / System.Math.Max(1, totals.Length - 1));
        var groups = completions.Chunk(recipe.NumGenerations).ToArray();
        var zeroStd = groups.Count(g => g.Select(c => c.Reward.Total).Distinct().Count() == 1);
        var byFunction = completions[0].Reward.Values.ToDictionary(
            v => v.Function,
            v => completions.Average(c => c.Reward.ValueOf(v.Function)));
        return new StepMetrics
        {
            Step = step,
            Loss = update.Loss,
            Reward = mean,
            RewardStd = std,
            RewardsByFunction = byFunction,
            SuccessRate = completions.Count(c => c.Reward.Solved) / (double)completions.Count,
            FormatRate = completions.Count(c => CompletionFormat.IsWellFormed(c.Text)) / (double)completions.Count,
            Kl = update.Kl,
            ClipRatioLow = update.ClipRatioLow,
            ClipRatioHigh = update.ClipRatioHigh,
            ClipRatioRegion = update.ClipRatioRegion,
            FracRewardZeroStd = zeroStd / (double)groups.Length,
            CompletionLengthMean = completions.Average(c => c.TokenIds.Length),
            TruncatedRatio = completions.Count(c => c.FinishReason == FinishReason.Length) / (double)completions.Count,
            LearningRate = learningRate,
            GradNorm = update.GradNorm,
            StalenessMean = staleness.Average(),
            StalenessMax = staleness.Max(),
            Sampler = update.Sampler,
        };
    }
}
