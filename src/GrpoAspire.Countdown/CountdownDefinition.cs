using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Tasks;

namespace GrpoAspire.Countdown;

/// <summary>
/// Countdown as a task: records <c>{"nums": [44, 19, 35], "target": 98}</c>, the seed's format and equation rewards
/// (and TinyZero's), the seed's equation check as the verdict, the seeded generator and its fixed held-out set.
/// </summary>
public sealed class CountdownDefinition : ITaskDefinition
{
    public const string Name = "countdown";

    public static CountdownDefinition Instance { get; } = new();

    private CountdownDefinition()
    {
    }

    public string Task => Name;

    public string Description => "combine each number once with + - * / ( ) to reach the target (the seed's task)";

    public IReadOnlyList<IRewardFunction> RewardFunctions { get; } =
    [
        Reward(RewardFunctionNames.Format, (completion, _) => CompletionFormat.IsWellFormed(completion) ? 1.0 : 0.0),
        Reward(RewardFunctionNames.Equation,
            (completion, task) => CountdownScorer.SeedEquation(completion, task) == EquationVerdict.Correct ? 1.0 : 0.0),
        Reward(RewardFunctionNames.EquationTinyZero, (completion, task) => CountdownScorer.TinyZeroEquation(completion, task)),
    ];

    public IReadOnlyList<Tasks.RewardWeight> DefaultRewards { get; } =
        [new(RewardFunctionNames.Format, 1.0), new(RewardFunctionNames.Equation, 1.0)];

    public string DefaultPromptTemplate => PromptTemplate.SeedR1;

    public string Verdict(string completion, TaskRecord record) =>
        CountdownScorer.SeedEquation(completion, ToTask(record)).ToWireName();

    public IReadOnlyList<TaskRecord> HeldOut(int count) => TaskSplits.HeldOut(count).Select(ToRecord).ToArray();

    public IEnumerable<TaskRecord> Generate(ulong seed, IReadOnlyCollection<TaskRecord> heldOut)
    {
        var generator = new TaskGenerator(seed);
        var excluded = heldOut.Select(Key).ToHashSet(StringComparer.Ordinal);
        while (true)
        {
            var task = generator.Next();
            if (!excluded.Contains(task.Key))
            {
                yield return ToRecord(task);
            }
        }
    }

    public void Validate(TaskRecord record) => ToTask(record);

    public string Key(TaskRecord record) => ToTask(record).Key;

    public static TaskRecord ToRecord(CountdownTask task) => TaskRecord.From(Name, new CountdownFields(task.Nums, task.Target));

    /// <summary>The Countdown task of a record, parsed once per record; a bad one names the field.</summary>
    public static CountdownTask ToTask(TaskRecord record) => record.As(Parse);

    private static CountdownTask Parse(TaskRecord record)
    {
        try
        {
            return new CountdownTask(record.GetInt64Array("nums", CountdownTask.MaxNumbers), record.GetInt64("target"));
        }
        catch (ArgumentException e) when (e is not TaskRecordException)
        {
            throw new TaskRecordException(e.Reason());
        }
    }

    private sealed record CountdownFields(
        [property: System.Text.Json.Serialization.JsonPropertyName("nums")] IReadOnlyList<long> Nums,
        [property: System.Text.Json.Serialization.JsonPropertyName("target")] long Target);

    private static RewardFunction<CountdownTask> Reward(string name, Func<string, CountdownTask, double> score) => new(Name, name, Parse, score);
}
