using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Arithmetic;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Countdown.Solver;
using GrpoAspire.Tasks;

namespace GrpoAspire.BuiltInTasks.Nearest;

/// <summary>
/// countdown-nearest: the numbers game when the target may be out of reach. Records <c>{"nums": [44, 19, 35], "target": 917}</c>;
/// an answer uses each number once with + - * / ( ) and is judged by how close its value comes to the target against the
/// closest any equation can come (found exhaustively). A completion solves its record when nothing comes closer.
/// </summary>
public sealed class NearestDefinition : ITaskDefinition
{
    public const string Name = "countdown-nearest";
    public const string Template = "nearest-compact";

    /// <summary>
    /// The closest distance is found by trying every equation: 3,888 of them for four numbers, 21 million for six, so
    /// records hold at most four (a reward request's cost stays bounded).
    /// </summary>
    public const int MaxNumbers = 4;

    /// <summary>Not Countdown's held-out seed: the two held-out sets are independent draws.</summary>
    private const ulong HeldOutSeed = 20_261_207;

    public static NearestDefinition Instance { get; } = new();

    private NearestDefinition()
    {
    }

    public string Task => Name;

    public string Description => "get as close as possible to a target that may be out of reach, each number used once";

    public IReadOnlyList<IRewardFunction> RewardFunctions { get; } =
    [
        new RewardFunction<NearestTask>(Name, "format", Parse, (completion, _) => CompletionFormat.IsWellFormed(completion) ? 1.0 : 0.0),
        new RewardFunction<NearestTask>(Name, "closeness", Parse, Closeness),
    ];

    public IReadOnlyList<Tasks.RewardWeight> DefaultRewards { get; } = [new("format", 1.0), new("closeness", 1.0)];

    public string DefaultPromptTemplate => Template;

    public string Verdict(string completion, TaskRecord record)
    {
        var (verdict, extra) = Judge(completion, Read(record));
        return verdict != EquationVerdict.Correct ? verdict.ToWireName()
            : extra.IsZero ? ITaskJudge.Correct
            : "not_nearest";
    }

    public void Validate(TaskRecord record) => Read(record);

    public string Key(TaskRecord record) => Read(record).Task.Key;

    public IReadOnlyList<TaskRecord> HeldOut(int count) =>
        Draw(new NearestGenerator(HeldOutSeed), count, []).ToArray();

    public IEnumerable<TaskRecord> Generate(ulong seed, IReadOnlyCollection<TaskRecord> heldOut) =>
        Draw(new NearestGenerator(seed), int.MaxValue, heldOut.Select(Key).ToHashSet(StringComparer.Ordinal));

    public static TaskRecord ToRecord(CountdownTask task) => TaskRecord.From(Name, new NearestFields(task.Nums, task.Target));

    /// <summary>1 for an answer as close as any, falling as 1 / (1 + how much farther it is); 0 without a valid answer.</summary>
    private static double Closeness(string completion, NearestTask task)
    {
        var (verdict, extra) = Judge(completion, task);
        return verdict == EquationVerdict.Correct ? 1.0 / (1.0 + extra.ToDouble()) : 0.0;
    }

    /// <summary>The first answer's verdict and, for a valid one, how much farther from the target it is than the best.</summary>
    private static (EquationVerdict Verdict, Rational Extra) Judge(string completion, NearestTask task)
    {
        if (CompletionFormat.FindFirstAnswer(completion) is not { } range)
        {
            return (EquationVerdict.NoAnswer, default);
        }

        var (verdict, value) = EquationEvaluator.Value(completion.AsSpan()[range], task.Task.Nums);
        if (verdict != EquationVerdict.Correct)
        {
            return (verdict, default);
        }

        var extra = Rational.Abs(value - Rational.FromInteger(task.Task.Target)) - task.Best;
        return (EquationVerdict.Correct, extra.Numerator.Sign <= 0 ? Rational.FromInteger(0) : extra);
    }

    private static IEnumerable<TaskRecord> Draw(NearestGenerator generator, int count, HashSet<string> excluded)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var drawn = 0; drawn < count;)
        {
            var task = generator.Next();
            if (!excluded.Contains(task.Key) && seen.Add(task.Key))
            {
                drawn++;
                yield return ToRecord(task);
            }
        }
    }

    /// <summary>A record's task and closest distance, worked out once per record.</summary>
    private static NearestTask Read(TaskRecord record) => record.As(Parse);

    private static NearestTask Parse(TaskRecord record)
    {
        try
        {
            var task = new CountdownTask(record.GetInt64Array("nums", MaxNumbers), record.GetInt64("target"));
            return new NearestTask(task, CountdownSolver.NearestDistance(task.Nums, task.Target));
        }
        catch (ArgumentException e) when (e is not TaskRecordException)
        {
            throw new TaskRecordException(e.Reason());
        }
    }

    /// <summary>A record's task with the closest distance any equation reaches (computed once per record).</summary>
    private sealed record NearestTask(CountdownTask Task, Rational Best);

    private sealed record NearestFields(
        [property: System.Text.Json.Serialization.JsonPropertyName("nums")] IReadOnlyList<long> Nums,
        [property: System.Text.Json.Serialization.JsonPropertyName("target")] long Target);
}
