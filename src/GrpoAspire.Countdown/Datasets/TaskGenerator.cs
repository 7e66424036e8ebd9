using GrpoAspire.Countdown.Solver;

namespace GrpoAspire.Countdown.Datasets;

/// <summary>Settings of the solvable-task generator (defaults: the dataset's 3 or 4 numbers in 1..100).</summary>
public sealed record TaskGeneratorOptions
{
    public int MinNumbers { get; init; } = 3;
    public int MaxNumbers { get; init; } = 4;
    public int MinValue { get; init; } = 1;
    public int MaxValue { get; init; } = 100;
    public int MinTarget { get; init; } = 1;
    public int MaxTarget { get; init; } = 100;

    public void Validate()
    {
        if (MinNumbers < 1 || MaxNumbers > CountdownTask.MaxNumbers || MinNumbers > MaxNumbers)
        {
            throw new ArgumentException(
                $"numbers per task must satisfy 1 <= min <= max <= {CountdownTask.MaxNumbers}, got {MinNumbers}..{MaxNumbers}");
        }

        if (MinValue < 0 || MinValue > MaxValue)
        {
            throw new ArgumentException($"number values must satisfy 0 <= min <= max, got {MinValue}..{MaxValue}");
        }

        if (MinTarget > MaxTarget)
        {
            throw new ArgumentException($"the target range {MinTarget}..{MaxTarget} is empty");
        }
    }
}

/// <summary>
/// Seeded generator of solvable Countdown tasks: draw the numbers, list every target in range that an
/// equation over all of them reaches, pick one uniformly. The same seed gives the same tasks everywhere.
/// </summary>
public sealed class TaskGenerator
{
    private readonly TaskGeneratorOptions _options;
    private readonly SeededRandom _random;

    public TaskGenerator(ulong seed, TaskGeneratorOptions? options = null)
    {
        _options = options ?? new TaskGeneratorOptions();
        _options.Validate();
        _random = new SeededRandom(seed);
    }

    public CountdownTask Next()
    {
        while (true)
        {
            var count = _random.Next(_options.MinNumbers, _options.MaxNumbers + 1);
            var nums = new long[count];
            for (var i = 0; i < count; i++)
            {
                nums[i] = _random.Next(_options.MinValue, _options.MaxValue + 1);
            }

            var reachable = CountdownSolver.ReachableIntegers(nums, _options.MinTarget, _options.MaxTarget);
            if (reachable.Count == 0)
            {
                continue; // rare (e.g. all numbers huge for the range): draw again
            }

            var target = reachable.ElementAt(_random.Next(0, reachable.Count));
            return new CountdownTask(nums, target);
        }
    }

    public IEnumerable<CountdownTask> Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        for (var i = 0; i < count; i++)
        {
            yield return Next();
        }
    }
}
