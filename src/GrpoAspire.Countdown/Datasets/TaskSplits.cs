namespace GrpoAspire.Countdown.Datasets;

/// <summary>A train and a test list of tasks or records.</summary>
public sealed record TaskSplit<T>(IReadOnlyList<T> Train, IReadOnlyList<T> Test);

/// <summary>Splits and held-out sets, reproducible from their seeds.</summary>
public static class TaskSplits
{
    /// <summary>Seed of the fixed held-out evaluation sets.</summary>
    public const ulong HeldOutSeed = 20_260_001;

    /// <summary>
    /// As the seed recipe: shuffle with a seed, keep at most <paramref name="maxTasks"/>, then hold out
    /// <paramref name="testFraction"/> (the seed: 50,000 tasks, 10%).
    /// </summary>
    public static TaskSplit<T> ShuffleAndSplit<T>(
        IReadOnlyList<T> tasks, ulong seed = 42, double testFraction = 0.1, int? maxTasks = null)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (testFraction is < 0 or >= 1 || double.IsNaN(testFraction))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "test fraction must be in [0, 1)");
        }

        var shuffled = tasks.ToList();
        new SeededRandom(seed).Shuffle(shuffled);
        if (maxTasks is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(max, nameof(maxTasks));
            shuffled = shuffled.Take(max).ToList();
        }

        var testCount = (int)Math.Ceiling(shuffled.Count * testFraction);
        return new TaskSplit<T>(shuffled.Skip(testCount).ToList(), shuffled.Take(testCount).ToList());
    }

    /// <summary>
    /// A fixed held-out set of <paramref name="count"/> solvable, distinct tasks (3-4 numbers in 1..100),
    /// the same on every machine. Training generators exclude it with <see cref="ExcludingHeldOut"/>.
    /// </summary>
    public static IReadOnlyList<CountdownTask> HeldOut(int count = 500, TaskGeneratorOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var generator = new TaskGenerator(HeldOutSeed, options);
        var seen = new HashSet<string>();
        var tasks = new List<CountdownTask>(count);
        while (tasks.Count < count)
        {
            var task = generator.Next();
            if (seen.Add(task.Key))
            {
                tasks.Add(task);
            }
        }

        return tasks;
    }

    /// <summary>Tasks of <paramref name="source"/> whose key is not in <paramref name="heldOut"/>.</summary>
    public static IEnumerable<CountdownTask> ExcludingHeldOut(
        IEnumerable<CountdownTask> source, IReadOnlyCollection<CountdownTask> heldOut)
    {
        var keys = heldOut.Select(t => t.Key).ToHashSet();
        return source.Where(task => !keys.Contains(task.Key));
    }
}
