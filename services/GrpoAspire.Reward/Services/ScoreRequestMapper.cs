using System.Text;
using Google.Protobuf.Collections;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Reward.Options;
using GrpoAspire.Reward.Scoring;
using Microsoft.Extensions.Options;
using Proto = GrpoAspire.Contracts.V1;

namespace GrpoAspire.Reward.Services;

/// <summary>
/// Maps reward messages to <see cref="ScoringBatch"/>es, enforcing <see cref="RewardOptions"/>' limits, and
/// scores back to messages. Bad input is an <see cref="Grpc.Core.RpcException"/> with <c>InvalidArgument</c>.
/// </summary>
public sealed class ScoreRequestMapper
{
    private const string RewardFunctionsField = "reward_functions";

    private readonly RewardOptions _options;
    private readonly CountdownScorer _defaultScorer;

    public ScoreRequestMapper(IOptions<RewardOptions> options)
    {
        _options = options.Value;
        // Validated at start-up, so this cannot throw here.
        _defaultScorer = RewardScorers.Parse(
            _options.DefaultRewardFunctions, $"{RewardOptions.SectionName}:DefaultRewardFunctions");
    }

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

        var scorer = rewardFunctions.Count == 0 ? _defaultScorer : ToScorer(rewardFunctions, place);
        var items = new ScoringItem[completions.Count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = ToItem(completions[i], i, place);
        }

        return new ScoringBatch(items, scorer);
    }

    public static IEnumerable<CompletionScore> ToScores(ScoringBatch batch, IReadOnlyList<RewardBreakdown> results)
    {
        for (var i = 0; i < results.Count; i++)
        {
            var result = results[i];
            var score = new CompletionScore
            {
                Id = batch.Items[i].Id,
                Total = result.Total,
                EquationVerdict = result.EquationVerdict.ToWireName(),
            };
            foreach (var value in result.Values)
            {
                score.Rewards.Add(new Proto.RewardValue { Name = value.Function.ToWireName(), Value = value.Value });
            }

            yield return score;
        }
    }

    private static CountdownScorer ToScorer(RepeatedField<Proto.RewardWeight> rewardFunctions, string place)
    {
        var entries = rewardFunctions.Select(f => (f.Name, f.Weight)).ToArray();
        try
        {
            return RewardScorers.Create(entries, place + RewardFunctionsField);
        }
        catch (ArgumentException e)
        {
            throw RewardErrors.InvalidArgument(e.Message);
        }
    }

    private ScoringItem ToItem(Completion completion, int index, string place)
    {
        var bytes = Encoding.UTF8.GetByteCount(completion.Text);
        if (bytes > _options.MaxCompletionBytes)
        {
            throw RewardErrors.InvalidArgument(
                $"{RewardErrors.CompletionPlace(place, index, completion.Id)}: completion of {bytes} UTF-8 bytes "
                + $"exceeds {RewardOptions.SectionName}:MaxCompletionBytes {_options.MaxCompletionBytes}");
        }

        try
        {
            var task = new CountdownTask(completion.Nums, completion.Target);
            return new ScoringItem(completion.Id, completion.Text, task);
        }
        catch (ArgumentException e)
        {
            // No numbers, too many, a negative one: the task's own rules, so they are stated once.
            var where = RewardErrors.CompletionPlace(place, index, completion.Id);
            throw RewardErrors.InvalidArgument($"{where}: {e.Reason()}");
        }
    }
}
