using System.Diagnostics.Metrics;
using GrpoAspire.Tasks;

namespace GrpoAspire.Reward.Scoring;

/// <summary>One completion to score against its record, by its task's scorer; the id is the caller's, echoed back.</summary>
public readonly record struct ScoringItem(string Id, string Text, TaskRecord Record, RewardScorer Scorer);

/// <summary>Completions validated against the service's limits, each with the scorer for its task and functions.</summary>
public sealed record ScoringBatch(IReadOnlyList<ScoringItem> Items);

/// <summary>Scores validated batches and reports what it scored through <see cref="GrpoTelemetry"/>.</summary>
public sealed class CompletionScoringService
{
    private static readonly Counter<long> CompletionsScored = GrpoTelemetry.Meter.CreateCounter<long>(
        "grpo.reward.completions", unit: "{completion}", description: "Completions scored, by task and verdict.");

    private static readonly Histogram<double> RewardTotal = GrpoTelemetry.Meter.CreateHistogram<double>(
        "grpo.reward.total", description: "Weighted reward total of each scored completion.");

    public IReadOnlyList<RewardBreakdown> Score(ScoringBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var activity = GrpoTelemetry.ActivitySource.StartActivity("reward.score");
        activity?.SetTag("reward.batch_size", batch.Items.Count);
        activity?.SetTag("reward.tasks", string.Join(',', batch.Items.Select(i => i.Record.Task).Distinct()));

        var results = new RewardBreakdown[batch.Items.Count];
        var correct = 0;
        for (var i = 0; i < results.Length; i++)
        {
            var item = batch.Items[i];
            var result = item.Scorer.Score(item.Text, item.Record);
            results[i] = result;
            correct += result.Solved ? 1 : 0;
            CompletionsScored.Add(
                1,
                new KeyValuePair<string, object?>("task", item.Record.Task),
                new KeyValuePair<string, object?>("verdict", result.Verdict));
            RewardTotal.Record(result.Total);
        }

        activity?.SetTag("reward.correct", correct);
        return results;
    }
}
