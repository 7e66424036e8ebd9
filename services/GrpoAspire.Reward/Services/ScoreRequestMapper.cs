using System.Text;
using Google.Protobuf.Collections;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Reward.Options;
using GrpoAspire.Reward.Scoring;
using GrpoAspire.Tasks;
using Microsoft.Extensions.Options;
using Proto = GrpoAspire.Contracts.V1;
using TaskRecord = GrpoAspire.Tasks.TaskRecord;

namespace GrpoAspire.Reward.Services;

/// <summary>
/// Maps reward messages to <see cref="ScoringBatch"/>es, enforcing <see cref="RewardOptions"/>' limits and resolving each
/// record's task and reward functions in the <see cref="TaskCatalog"/>, and scores back to messages. Bad input is an
/// <see cref="Grpc.Core.RpcException"/> with <c>InvalidArgument</c>.
/// </summary>
public sealed class ScoreRequestMapper(IOptions<RewardOptions> options, TaskCatalog catalog)
{
    private const string RewardFunctionsField = "reward_functions";

    private readonly RewardOptions _options = options.Value;

    /// <param name="place">Prefix of error messages: empty for a call, "message 3: " for a stream message.</param>
    public ScoringBatch ToBatch(
        RepeatedField<Completion> completions, RepeatedField<Proto.RewardWeight> rewardFunctions, string place)
    {
        if (completions.Count > _options.MaxBatchSize)
        {
            throw RewardErrors.InvalidArgument(
                $"{place}batch of {completions.Count} completions exceeds "
                + $"{RewardOptions.SectionName}:MaxBatchSize {_options.MaxBatchSize}");
        }

        var weights = rewardFunctions.Select(f => new Tasks.RewardWeight(f.Name, f.Weight)).ToArray();
        var scorers = new Dictionary<string, RewardScorer>(StringComparer.Ordinal);
        var items = new ScoringItem[completions.Count];
        for (var i = 0; i < items.Length; i++)
        {
            var completion = completions[i];
            var record = ToRecord(completion, i, place);
            if (!scorers.TryGetValue(record.Task, out var scorer))
            {
                scorer = ToScorer(record.Task, weights, place);
                scorers.Add(record.Task, scorer);
            }

            items[i] = new ScoringItem(completion.Id, completion.Text, record, scorer);
        }

        return new ScoringBatch(items);
    }

    public static IEnumerable<CompletionScore> ToScores(ScoringBatch batch, IReadOnlyList<RewardBreakdown> results)
    {
        for (var i = 0; i < results.Count; i++)
        {
            var result = results[i];
            var score = new CompletionScore { Id = batch.Items[i].Id, Total = result.Total, Verdict = result.Verdict };
            foreach (var value in result.Values)
            {
                score.Rewards.Add(new Proto.RewardValue { Name = value.Function, Value = value.Value });
            }

            yield return score;
        }
    }

    private RewardScorer ToScorer(string task, IReadOnlyList<Tasks.RewardWeight> weights, string place)
    {
        try
        {
            return catalog.Scorer(task, weights, place + RewardFunctionsField);
        }
        catch (ArgumentException e)
        {
            throw RewardErrors.InvalidArgument(e.Reason());
        }
    }

    private TaskRecord ToRecord(Completion completion, int index, string place)
    {
        var where = RewardErrors.CompletionPlace(place, index, completion.Id);
        var bytes = Encoding.UTF8.GetByteCount(completion.Text);
        if (bytes > _options.MaxCompletionBytes)
        {
            throw RewardErrors.InvalidArgument(
                $"{where}: completion of {bytes} UTF-8 bytes exceeds {RewardOptions.SectionName}:MaxCompletionBytes {_options.MaxCompletionBytes}");
        }

        if (completion.Record is null)
        {
            throw RewardErrors.InvalidArgument($"{where}: no record (the task and fields the completion answers)");
        }

        try
        {
            var record = TaskRecord.Parse(completion.Record.Task, completion.Record.FieldsJson);
            catalog.Task(record.Task).Validate(record); // an unknown task fails here too, listing the known ones
            return record;
        }
        catch (ArgumentException e)
        {
            throw RewardErrors.InvalidArgument($"{where}: {e.Reason()}");
        }
    }
}
