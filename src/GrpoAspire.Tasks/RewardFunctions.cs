namespace GrpoAspire.Tasks;

/// <summary>
/// A reward function: the completion (the model's text after the prompt) and its record in, a value out. Implementations
/// are pure and thread-safe; they never evaluate model output as code. A record the function cannot use is a
/// <see cref="TaskRecordException"/>.
/// </summary>
public interface IRewardFunction
{
    /// <summary>The name recipes and requests use (<c>reward_funcs</c>), e.g. <c>equation</c>.</summary>
    string Name { get; }

    /// <summary>The task whose records it reads.</summary>
    string Task { get; }

    double Score(string completion, TaskRecord record);
}

/// <summary>A reward function over a task's own view of its records (parsed once per record, <see cref="TaskRecord.As{T}"/>).</summary>
public sealed class RewardFunction<T>(string task, string name, Func<TaskRecord, T> read, Func<string, T, double> score) : IRewardFunction
    where T : class
{
    public string Name => name;

    public string Task => task;

    public double Score(string completion, TaskRecord record) => score(completion, record.As(read));
}

/// <summary>
/// Judges whether a completion solves its record, with a reason: <see cref="Correct"/>, or a task-specific name such as
/// <c>no_answer</c>. Success rates (training metrics, held-out evaluation) count <see cref="Correct"/> verdicts.
/// </summary>
public interface ITaskJudge
{
    const string Correct = "correct";

    string Task { get; }

    string Verdict(string completion, TaskRecord record);
}

/// <summary>One reward function's value for one completion.</summary>
public readonly record struct RewardValue(string Function, double Value);

/// <summary>Every function's value, the weighted total, and the task's verdict on the completion.</summary>
public sealed record RewardBreakdown(IReadOnlyList<RewardValue> Values, double Total, string Verdict)
{
    public bool Solved => Verdict == ITaskJudge.Correct;

    public double ValueOf(string function)
    {
        foreach (var value in Values)
        {
            if (value.Function == function)
            {
                return value.Value;
            }
        }

        throw new ArgumentException($"reward function {function} was not computed", nameof(function));
    }
}

/// <summary>A reward function's name and its weight in the total, as a recipe or a request gives them.</summary>
public sealed record RewardWeight(string Function, double Weight);
