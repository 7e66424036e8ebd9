namespace GrpoAspire.Tasks;

/// <summary>
/// A built-in task: how its records are judged and rewarded, the prompt template and rewards a recipe gets when it names
/// none, and, for <c>dataset_id_or_path: generate</c>, a seeded generator with a fixed held-out split.
/// </summary>
public interface ITaskDefinition : ITaskJudge
{
    /// <summary>One line for listings and errors.</summary>
    string Description { get; }

    IReadOnlyList<IRewardFunction> RewardFunctions { get; }

    IReadOnlyList<RewardWeight> DefaultRewards { get; }

    /// <summary>The built-in prompt template used when a recipe names none.</summary>
    string DefaultPromptTemplate { get; }

    /// <summary>The fixed held-out records (the first <paramref name="count"/>, always the same); never trained on.</summary>
    IReadOnlyList<TaskRecord> HeldOut(int count);

    /// <summary>Training records from <paramref name="seed"/>, endless, never one of the held-out ones.</summary>
    IEnumerable<TaskRecord> Generate(ulong seed, IReadOnlyCollection<TaskRecord> heldOut);

    /// <summary>Checks that a record has what this task's judge and reward functions read; a bad one names the field.</summary>
    void Validate(TaskRecord record);

    /// <summary>A key equal for records that pose the same problem (duplicates are dropped from training data).</summary>
    string Key(TaskRecord record);
}

/// <summary>
/// The tasks a process knows and their reward functions, by name (a function's name is unique within its task); errors
/// list the valid names.
/// </summary>
public sealed class TaskCatalog
{
    private readonly Dictionary<string, ITaskDefinition> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Task, string Name), IRewardFunction> _functions = [];

    public TaskCatalog(IEnumerable<ITaskDefinition> tasks)
    {
        foreach (var task in tasks)
        {
            TaskRecord.ValidateTaskName(task.Task);
            if (!_tasks.TryAdd(task.Task, task))
            {
                throw new ArgumentException($"task '{task.Task}' is defined twice", nameof(tasks));
            }

            foreach (var function in task.RewardFunctions)
            {
                if (function.Task != task.Task || !_functions.TryAdd((task.Task, function.Name), function))
                {
                    throw new ArgumentException($"task '{task.Task}': reward function '{function.Name}' is defined twice or for another task", nameof(tasks));
                }
            }
        }
    }

    public IEnumerable<ITaskDefinition> Tasks => _tasks.Values;

    public ITaskDefinition Task(string name) =>
        _tasks.TryGetValue(name, out var task)
            ? task
            : throw new ArgumentException($"unknown task '{name}'; valid: {string.Join(", ", _tasks.Keys)}");

    public IRewardFunction Function(string task, string name) =>
        _functions.TryGetValue((task, name), out var function)
            ? function
            : throw new ArgumentException(
                $"unknown reward function '{name}' for {task}; valid: {string.Join(", ", Task(task).RewardFunctions.Select(f => f.Name))}");

    /// <summary>
    /// A scorer for <paramref name="task"/> with these functions and weights (the task's defaults when empty). Errors start
    /// with <paramref name="place"/> and the entry at fault: <c>reward_funcs[1]: unknown reward function 'bogus'; valid: ...</c>.
    /// </summary>
    public RewardScorer Scorer(string task, IReadOnlyList<RewardWeight> weights, string place = "reward_funcs")
    {
        var definition = Task(task);
        var chosen = weights.Count == 0 ? definition.DefaultRewards : weights;
        var resolved = new (IRewardFunction, double)[chosen.Count];
        for (var i = 0; i < resolved.Length; i++)
        {
            try
            {
                resolved[i] = (Function(task, chosen[i].Function), chosen[i].Weight);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{place}[{i}]: {e.Reason()}", e);
            }
        }

        try
        {
            return new RewardScorer(definition, resolved);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{place}: {e.Reason()}", e);
        }
    }
}

/// <summary>
/// Scores completions of one task: each function's value, their weighted sum, and the task's verdict. Thread-safe: the
/// reward service, the CLI and the trainer all score through it.
/// </summary>
public sealed class RewardScorer
{
    private readonly ITaskJudge _judge;
    private readonly (IRewardFunction Function, double Weight)[] _functions;

    public RewardScorer(ITaskJudge judge, IReadOnlyList<(IRewardFunction Function, double Weight)> functions)
    {
        ArgumentNullException.ThrowIfNull(judge);
        _judge = judge;
        _functions = functions.ToArray();
        if (_functions.Length == 0)
        {
            throw new ArgumentException("at least one reward function is needed", nameof(functions));
        }

        foreach (var (function, weight) in _functions)
        {
            if (function.Task != judge.Task)
            {
                throw new ArgumentException($"reward function '{function.Name}' scores {function.Task} records, not {judge.Task}", nameof(functions));
            }

            if (!double.IsFinite(weight))
            {
                throw new ArgumentException($"the weight of {function.Name} must be finite, got {weight}", nameof(functions));
            }
        }

        if (_functions.DistinctBy(f => f.Function.Name).Count() != _functions.Length)
        {
            throw new ArgumentException("each reward function may appear once", nameof(functions));
        }
    }

    public string Task => _judge.Task;

    public IReadOnlyList<RewardWeight> Weights => _functions.Select(f => new RewardWeight(f.Function.Name, f.Weight)).ToArray();

    public RewardBreakdown Score(string completion, TaskRecord record)
    {
        ArgumentNullException.ThrowIfNull(completion);
        ArgumentNullException.ThrowIfNull(record);
        if (record.Task != _judge.Task)
        {
            throw new TaskRecordException($"a {record.Task} record cannot be scored by {_judge.Task}'s reward functions");
        }

        var values = new RewardValue[_functions.Length];
        var total = 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            var (function, weight) = _functions[i];
            var value = function.Score(completion, record);
            values[i] = new RewardValue(function.Name, value);
            total += weight * value;
        }

        return new RewardBreakdown(values, total, _judge.Verdict(completion, record));
    }
}
