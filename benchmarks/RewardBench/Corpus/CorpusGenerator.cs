using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Countdown.Solver;

namespace GrpoAspire.Benchmarks.Reward.Corpus;

/// <summary>One corpus line: a completion (the text after the "&lt;think&gt;" prefill) for a task.</summary>
internal sealed record CorpusLine(string Kind, string Completion, IReadOnlyList<long> Nums, long Target);

/// <summary>
/// Generates realistic completions for solvable tasks (<see cref="TaskGenerator"/> + <see cref="CountdownSolver"/>),
/// <see cref="GroupSize"/> consecutive lines per task as a GRPO batch holds them, in the documented <see cref="Mix"/>.
/// </summary>
internal sealed partial class CorpusGenerator
{
    /// <summary>Completions per task, like TRL's num_generations.</summary>
    public const int GroupSize = 8;

    /// <summary>The kinds of completion and their shares of the corpus.</summary>
    public static readonly IReadOnlyList<(string Kind, double Share, string Description)> Mix =
    [
        ("correct", 0.35, "well-formed, 1-3 trial equations in the thinking, the solver's equation as the answer"),
        ("wrong_value", 0.15, "well-formed, every number once, but a random expression that misses the target"),
        ("wrong_numbers", 0.08, "well-formed, a number dropped, repeated or added"),
        ("malformed", 0.17, "no </think>, no or unclosed <answer>, nested <think>, text after </answer>, blank line, "
            + "multi-line answer, answer inside the thinking, truncated, empty"),
        ("long", 0.10, "1.5-6 KB of thinking (trials and restarts), then a correct or wrong answer"),
        ("operators", 0.05, "correct by Python's eval with ** or // or a decimal literal (our documented deviations)"),
        ("edge", 0.10, "'= target' suffix, '×', division by zero, leading zero, implicit product, unary +, "
            + "non-ASCII and '<' in the thinking, padded answer"),
    ];

    private readonly SeededRandom _random;
    private readonly ReasoningWriter _reasoning;
    private readonly List<(CountdownTask Task, string Solution)> _tasks;

    public CorpusGenerator(ulong seed, int taskCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(taskCount, 1);
        _random = new SeededRandom(seed ^ 0x5DEECE66DUL);
        _reasoning = new ReasoningWriter(_random);
        // Every generated task is solvable by construction, so Solve never returns null.
        _tasks = new TaskGenerator(seed).Take(taskCount)
            .Select(t => (t, CountdownSolver.Solve(t) ?? throw new InvalidOperationException($"unsolvable task {t}")))
            .ToList();
    }

    public IEnumerable<CorpusLine> Generate(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var (task, solution) = _tasks[(i / GroupSize) % _tasks.Count];
            yield return PickKind() switch
            {
                "correct" => Correct(task, solution),
                "wrong_value" => WrongValue(task),
                "wrong_numbers" => WrongNumbers(task, solution),
                "malformed" => Malformed(task, solution),
                "long" => Long(task, solution),
                "operators" => Operators(task),
                "edge" => Edge(task, solution),
                var kind => throw new InvalidOperationException($"no builder for kind '{kind}'"),
            };
        }
    }

    private string PickKind()
    {
        var draw = _random.NextDouble();
        foreach (var (kind, share, _) in Mix)
        {
            if ((draw -= share) < 0)
            {
                return kind;
            }
        }

        return Mix[^1].Kind;
    }

    private static string WellFormed(string think, string answer) => $"{think}\n</think>\n<answer>{answer}</answer>";

    private CorpusLine Line(string kind, string completion, CountdownTask task) =>
        new(kind, completion, task.Nums, task.Target);

    private CorpusLine Correct(CountdownTask task, string solution)
    {
        var think = _reasoning.Think(task, _random.Next(1, 4)).Append(_reasoning.Conclusion(solution, task.Target, true));
        return Line("correct", WellFormed(think.ToString(), Spaced(solution)), task);
    }

    private CorpusLine WrongValue(CountdownTask task)
    {
        var guess = Expression.Random(_random, task.Nums);
        for (var tries = 0; guess.Value.IsInteger && guess.Value.Numerator == task.Target && tries < 10; tries++)
        {
            guess = Expression.Random(_random, task.Nums);
        }

        var think = _reasoning.Think(task, _random.Next(1, 4)).Append(_reasoning.Conclusion(guess.Text, task.Target, false));
        return Line("wrong_value", WellFormed(think.ToString(), Spaced(guess.Text)), task);
    }

    private CorpusLine WrongNumbers(CountdownTask task, string solution)
    {
        var nums = task.Nums.ToList();
        var answer = _random.Next(0, 3) switch
        {
            0 => Expression.Random(_random, nums.Skip(1).ToList()).Text, // one number dropped
            1 => Expression.Random(_random, [.. nums, nums[_random.Next(0, nums.Count)]]).Text, // one repeated
            _ => $"{solution} + {_random.Next(1, 10)} - {_random.Next(1, 10)}", // numbers added
        };
        var think = _reasoning.Think(task, _random.Next(1, 4)).Append(_reasoning.Conclusion(answer, task.Target, true));
        return Line("wrong_numbers", WellFormed(think.ToString(), answer), task);
    }

    private CorpusLine Long(CountdownTask task, string solution)
    {
        var correct = _random.Next(0, 2) == 0;
        var answer = correct ? solution : Expression.Random(_random, task.Nums).Text;
        var think = _reasoning.ThinkAtLength(task, _random.Next(1500, 6000))
            .Append(_reasoning.Conclusion(answer, task.Target, correct));
        return Line("long", WellFormed(think.ToString(), answer), task);
    }

    /// <summary>The answer as models write it: mostly as is, sometimes without spaces or padded.</summary>
    private string Spaced(string equation) => _random.Next(0, 10) switch
    {
        0 => equation.Replace(" ", string.Empty, StringComparison.Ordinal),
        1 => $" {equation} ",
        _ => equation,
    };
}
