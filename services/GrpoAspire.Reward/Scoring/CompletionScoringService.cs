using System.Diagnostics.Metrics;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Reward.Scoring;

/// <summary>One completion to score against its task; the id is the caller's, echoed back.</summary>
public readonly record struct ScoringItem(string Id, string Text, CountdownTask Task);

/// <summary>Completions validated against the service's limits, with the scorer for their reward functions.</summary>
public sealed record ScoringBatch(IReadOnlyList<ScoringItem> Items, CountdownScorer Scorer);

/// <summary>Scores validated batches and reports what it scored through <see cref="GrpoTelemetry"/>.</summary>
public sealed class CompletionScoringService
{
    private static readonly Counter<long> CompletionsScored = GrpoTelemetry.Meter.CreateCounter<long>(
        "grpo.reward.completions", unit: "{completion}", description: "Completions scored, by equation verdict.");

    private static readonly Histogram<double> RewardTotal = GrpoTelemetry.Meter.CreateHistogram<double>(
        "grpo.reward.total", description: "Weighted reward total of each scored completion.");

    public IReadOnlyList<RewardBreakdown> Score(ScoringBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var activity = GrpoTelemetry.ActivitySource.StartActivity("reward.score");
        activity?.SetTag("reward.batch_size", batch.Items.Count);
        activity?.SetTag(
            "reward.functions", string.Join(',', batch.Scorer.Weights.Select(w => w.Function.ToWireName())));

        var results = new RewardBreakdown[batch.Items.Count];
        var correct = 0;
        for (var i = 0; i < results.Length; i++)
        {
            var item = batch.Items[i];
            var result = batch.Scorer.Score(item.Text, item.Task);
            results[i] = result;
            correct += result.EquationVerdict == EquationVerdict.Correct ? 1 : 0;
            CompletionsScored.Add(
                1, new KeyValuePair<string, object?>("equation_verdict", result.EquationVerdict.ToWireName()));
            RewardTotal.Record(result.Total);
        }

        activity?.SetTag("reward.correct", correct);
        return results;
    }
}
