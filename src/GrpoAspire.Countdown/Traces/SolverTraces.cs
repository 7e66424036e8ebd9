using System.Globalization;
using System.Numerics;
using System.Text;
using GrpoAspire.Countdown.Arithmetic;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Countdown.Solver;

namespace GrpoAspire.Countdown.Traces;

/// <summary>Settings of the search traces a model is warm-started on.</summary>
public sealed record SolverTraceOptions
{
    /// <summary>
    /// Fraction of traces that never reach the target and answer their closest trial instead (a near miss,
    /// equation reward 0). The prototype's traces reach the target 55% of the time, so 0.45; imperfect traces
    /// leave reinforcement something to improve.
    /// </summary>
    public double ImperfectFraction { get; init; } = 0.45;

    /// <summary>
    /// Whether a near-miss trace gives up after a random number of wrong trials (1 to the most, uniform) instead of
    /// always after the most. The warm start then learns to stop searching early, at every trial: a habit that
    /// reinforcement can unlearn, since searching on is what reaches the target.
    /// </summary>
    public bool GiveUpEarly { get; init; }

    /// <summary>
    /// How a trace searches (<see cref="TraceStyle"/>): guessed whole equations (the prototype's), or, for tasks of
    /// three numbers, a target-directed search whose every step is arithmetic the model can check.
    /// </summary>
    public TraceStyle Style { get; init; } = TraceStyle.Trials;

    /// <summary>Most lines of a <see cref="TraceStyle.Stepwise"/> trace (each ~26 tokens; 7 keep it inside 256).</summary>
    public int MaxStepwiseLines { get; init; } = 7;

    /// <summary>
    /// Most lines of a <see cref="TraceStyle.Chain"/> trace of four numbers (each ~34 tokens: 6 lines and the answer take
    /// ~230, and those of three-digit values more; the aha recipe allows 320).
    /// </summary>
    public int MaxChainLines { get; init; } = 6;

    /// <summary>Most wrong trials in a trace for tasks of three numbers or fewer (the prototype's 6).</summary>
    public int MaxTrialsFewNumbers { get; init; } = 6;

    /// <summary>Most wrong trials in a trace for tasks of four numbers or more (the prototype's 4).</summary>
    public int MaxTrialsManyNumbers { get; init; } = 4;

    public void Validate()
    {
        if (ImperfectFraction is < 0 or > 1 || double.IsNaN(ImperfectFraction))
        {
            throw new ArgumentException($"the imperfect fraction must be in [0, 1], got {ImperfectFraction}");
        }

        if (!Enum.IsDefined(Style))
        {
            throw new ArgumentException($"unknown trace style {Style}");
        }

        if (MaxStepwiseLines < 1 || MaxChainLines < 1)
        {
            throw new ArgumentException($"a stepwise trace needs at least one line, got {MaxStepwiseLines} (3 numbers) and {MaxChainLines} (4)");
        }

        if (MaxTrialsFewNumbers < 1 || MaxTrialsManyNumbers < 1)
        {
            throw new ArgumentException(
                $"traces need at least one trial, got {MaxTrialsFewNumbers} (3 numbers) and {MaxTrialsManyNumbers} (4+)");
        }
    }
}

/// <summary>How a trace searches.</summary>
public enum TraceStyle
{
    /// <summary>Random whole equations, each with its value and a check, then the solver's answer (or the closest).</summary>
    Trials,

    /// <summary>
    /// Tasks of three numbers: a line per candidate, <c>87+37=124, 124-73=51, yes</c>: combine two numbers, take the
    /// distance to the target, and compare it with the number left (adding or subtracting it closes the equation).
    /// Every value is computed on the line before it is checked, so a claim rests on arithmetic, not on the target
    /// copied from the prompt. Tasks of four numbers keep <see cref="Trials"/>.
    /// </summary>
    Stepwise,

    /// <summary>
    /// <see cref="Stepwise"/> for tasks of three numbers, and for four a line per chain, <c>56-2=54, 54+13=67, 71-67=4, yes</c>:
    /// combine two numbers, combine the result with a third, take the distance to the target, and compare it with the
    /// number left. Other task sizes keep <see cref="Trials"/>.
    /// </summary>
    Chain,
}

/// <summary>How a trace ends.</summary>
public enum TraceOutcome
{
    /// <summary>The last trial reaches the target and is the answer (format 1, equation 1).</summary>
    Solved,

    /// <summary>No trial reaches the target; the answer is the closest one (format 1, equation 0).</summary>
    NearMiss,
}

/// <summary>One equation tried in a trace, over all of the task's numbers, with its exact value.</summary>
public readonly record struct TraceTrial(string Equation, Rational Value);

/// <summary>A completion (the text after the <c>&lt;think&gt;</c> prefill) and what it contains.</summary>
public sealed record SolverTrace(string Completion, string Answer, TraceOutcome Outcome, IReadOnlyList<TraceTrial> Trials);

/// <summary>
/// Search traces for the supervised warm start, in the seed's completion format: a few trial equations, each with
/// its value and a check against the target, then <c>&lt;/think&gt;\n&lt;answer&gt;EQUATION&lt;/answer&gt;</c>:
/// <code>
/// (80+70)-14 = 136, too high
/// (80/14)+70 = 75.71, too low
/// 80+(70/14) = 85, correct
/// &lt;/think&gt;
/// &lt;answer&gt;80+(70/14)&lt;/answer&gt;
/// </code>
/// Deterministic from a seed. Right answers come from the exhaustive solver; wrong trials are random pair merges
/// (the solver's own grammar: a compound operand is always bracketed), so both read alike. As the prototype
/// (shared/anchors/aha_prototype.py): a trace that reaches the target shows 0..K-1 wrong trials first; an
/// imperfect one shows K wrong trials (1..K with <see cref="SolverTraceOptions.GiveUpEarly"/>) and answers the closest.
/// </summary>
public static class SolverTraces
{
    public const string TooHigh = "too high";
    public const string TooLow = "too low";
    public const string Correct = "correct";

    private static readonly char[] Operators = ['+', '-', '*', '/'];

    private readonly record struct Term(Rational Value, string Text, bool IsCompound);

    /// <summary>A trace for <paramref name="task"/>, solving it first (fails for an unsolvable task).</summary>
    public static SolverTrace Create(CountdownTask task, ulong seed, SolverTraceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        var solution = CountdownSolver.Solve(task)
            ?? throw new ArgumentException($"task {task} has no solution, so it has no solver trace", nameof(task));
        return Create(task, solution, seed, options);
    }

    /// <summary>A trace for <paramref name="task"/> whose right answer is <paramref name="solution"/> (e.g. the solver's).</summary>
    public static SolverTrace Create(CountdownTask task, string solution, ulong seed, SolverTraceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(solution);
        options ??= new SolverTraceOptions();
        options.Validate();
        var answer = Compact(solution);
        if (EquationEvaluator.Check(answer, task) != EquationVerdict.Correct)
        {
            throw new ArgumentException($"'{solution}' does not solve {task}", nameof(solution));
        }

        var random = new SeededRandom(seed);
        // the solver proved the task solvable; a stepwise search finds its own equation, or none
        if (options.Style is TraceStyle.Stepwise or TraceStyle.Chain && task.Nums.Count == 3)
        {
            return Stepwise(task, ThreeNumberLines(task), options.MaxStepwiseLines, options, random);
        }

        if (options.Style == TraceStyle.Chain && task.Nums.Count == 4)
        {
            return Stepwise(task, ChainLines(task), options.MaxChainLines, options, random);
        }

        var target = new BigInteger(task.Target);
        var maxTrials = task.Nums.Count <= 3 ? options.MaxTrialsFewNumbers : options.MaxTrialsManyNumbers;
        var imperfect = random.NextDouble() < options.ImperfectFraction;
        var wrongCount = !imperfect ? random.Next(0, maxTrials)
            : options.GiveUpEarly ? random.Next(1, maxTrials + 1)
            : maxTrials;
        var trials = WrongTrials(task, target, wrongCount, random);
        if (imperfect && trials.Count == 0)
        {
            imperfect = false; // every equation reaches the target (e.g. a single number): nothing to miss with
        }

        TraceOutcome outcome;
        if (imperfect)
        {
            outcome = TraceOutcome.NearMiss;
            answer = trials.MinBy(t => System.Math.Abs(t.Value.ToDouble() - task.Target)).Equation;
        }
        else
        {
            outcome = TraceOutcome.Solved;
            trials.Add(new TraceTrial(answer, Rational.FromInteger(target)));
        }

        var lines = trials.Select(t => $"{t.Equation} = {FormatValue(t.Value)}, {Check(t.Value, target)}");
        return new SolverTrace(Completion(lines, answer), answer, outcome, trials);
    }

    /// <summary>The completion after the <c>&lt;think&gt;</c> prefill: each search line after a newline, then the answer.</summary>
    private static string Completion(IEnumerable<string> lines, string answer)
    {
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append('\n').Append(line);
        }

        text.Append('\n').Append(CompletionFormat.ThinkClose).Append('\n')
            .Append(CompletionFormat.AnswerOpen).Append(answer).Append(CompletionFormat.AnswerClose);
        return text.ToString();
    }

    /// <summary>One candidate of a stepwise trace: numbers combined, then the one left added or subtracted.</summary>
    private readonly record struct StepLine(string Text, string Equation, long Value, bool Reaches);

    /// <summary>Two numbers merged, the larger first (<c>87-37</c>), and the value it makes.</summary>
    private readonly record struct Merge(long Larger, char Op, long Smaller, long Value)
    {
        public override string ToString() => $"{Larger}{Op}{Smaller}";
    }

    /// <summary>Two numbers combined (the larger first): +, -, * unless above <paramref name="maxProduct"/>, / when exact.</summary>
    private static List<Merge> Combine(long a, long b, long maxProduct)
    {
        var (x, y) = (System.Math.Max(a, b), System.Math.Min(a, b));
        var combined = new List<Merge> { new(x, '+', y, x + y), new(x, '-', y, x - y) };
        if (x * y <= maxProduct)
        {
            combined.Add(new(x, '*', y, x * y));
        }

        if (y != 0 && x % y == 0)
        {
            combined.Add(new(x, '/', y, x / y));
        }

        return combined;
    }

    /// <summary>
    /// A line closing <paramref name="text"/> = <paramref name="r"/> with the number left: the distance to the
    /// target, then "yes" when it is that number. <paramref name="steps"/> are the line's merges before the distance.
    /// </summary>
    private static StepLine Close(string steps, string text, long r, long left, long target)
    {
        var (close, distance, sign) = r < target
            ? ($"{target}-{r}", target - r, '+')
            : ($"{r}-{target}", r - target, '-');
        var reaches = distance == left;
        return new StepLine(
            $"{steps}, {close}={distance}, {(reaches ? "yes" : "no")}", $"({text}){sign}{left}", sign == '+' ? r + left : r - left, reaches);
    }

    /// <summary>
    /// The candidates of a three-number task: every pair, combined by +, the larger minus the smaller, * unless the
    /// product is more than 100 past reach (a product above target + the number left cannot close), / when exact.
    /// </summary>
    private static List<StepLine> ThreeNumberLines(CountdownTask task)
    {
        var nums = task.Nums;
        var lines = new List<StepLine>();
        foreach (var (i, j, k) in new[] { (0, 1, 2), (0, 2, 1), (1, 2, 0) })
        {
            foreach (var pair in Combine(nums[i], nums[j], task.Target + nums[k] + 100))
            {
                lines.Add(Close($"{pair}={pair.Value}", pair.ToString(), pair.Value, nums[k], task.Target));
            }
        }

        return lines;
    }

    /// <summary>
    /// The chains of a four-number task: every pair combined (a product up to 1000), the result combined with one of
    /// the two numbers left (as <see cref="ThreeNumberLines"/> combines), closed by the last number.
    /// </summary>
    private static List<StepLine> ChainLines(CountdownTask task)
    {
        var nums = task.Nums;
        var lines = new List<StepLine>();
        for (var i = 0; i < 4; i++)
        {
            for (var j = i + 1; j < 4; j++)
            {
                var rest = Enumerable.Range(0, 4).Where(k => k != i && k != j).Select(k => nums[k]).ToArray();
                foreach (var pair in Combine(nums[i], nums[j], 1000))
                {
                    foreach (var (c, d) in new[] { (rest[0], rest[1]), (rest[1], rest[0]) })
                    {
                        foreach (var second in Combine(pair.Value, c, task.Target + d + 100))
                        {
                            // the merged pair reads as its value on the line and as its equation, bracketed, in the answer
                            var text = pair.Value >= c ? $"({pair}){second.Op}{c}" : $"{c}{second.Op}({pair})";
                            lines.Add(Close($"{pair}={pair.Value}, {second}={second.Value}", text, second.Value, d, task.Target));
                        }
                    }
                }
            }
        }

        return lines;
    }

    /// <summary>
    /// A stepwise trace (<see cref="TraceStyle.Stepwise"/>, <see cref="TraceStyle.Chain"/>): the candidate
    /// <paramref name="lines"/> in random order. A solved trace stops at the first "yes"; an imperfect one gives up
    /// after 1 to (that line - 1) lines, uniform, and answers its closest equation. A task no candidate closes shows
    /// up to <paramref name="maxLines"/> lines and answers the closest.
    /// </summary>
    private static SolverTrace Stepwise(CountdownTask task, List<StepLine> lines, int maxLines, SolverTraceOptions options, SeededRandom random)
    {
        var target = task.Target;
        Shuffle(lines, random);
        var first = lines.FindIndex(l => l.Reaches);
        var most = System.Math.Min(maxLines, lines.Count);
        if (first >= most)
        {
            // keep the trace inside the length budget: the reaching line moves to a random place among the first lines
            var moved = lines[first];
            lines.RemoveAt(first);
            first = random.Next(0, most);
            lines.Insert(first, moved);
        }

        var imperfect = random.NextDouble() < options.ImperfectFraction;
        List<StepLine> shown;
        TraceOutcome outcome;
        string answer;
        if (first < 0)
        {
            shown = lines.Take(most).ToList();
            outcome = TraceOutcome.NearMiss;
            answer = Closest(shown, target).Equation;
        }
        else if (imperfect && first > 0)
        {
            shown = lines.Take(random.Next(1, first + 1)).ToList();
            outcome = TraceOutcome.NearMiss;
            answer = Closest(shown, target).Equation;
        }
        else
        {
            shown = lines.Take(first + 1).ToList();
            outcome = TraceOutcome.Solved;
            answer = shown[^1].Equation;
        }

        var trials = shown.Select(l => new TraceTrial(l.Equation, Rational.FromInteger(l.Value))).ToList();
        return new SolverTrace(Completion(shown.Select(l => l.Text), answer), answer, outcome, trials);
    }

    private static StepLine Closest(List<StepLine> lines, long target) => lines.MinBy(l => System.Math.Abs(l.Value - target));

    private static void Shuffle<T>(List<T> items, SeededRandom random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(0, i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>The seed of example <paramref name="index"/> of a run seeded with <paramref name="runSeed"/> (SplitMix64 mixing).</summary>
    public static ulong ExampleSeed(ulong runSeed, long index) =>
        new SeededRandom(runSeed ^ ((ulong)index * 0xD1B54A32D192ED03UL)).NextUInt64();

    /// <summary>An equation without spaces (<c>80 + (70 / 14)</c> -> <c>80+(70/14)</c>): a byte-level model reads fewer tokens.</summary>
    public static string Compact(string equation) => equation.Replace(" ", string.Empty, StringComparison.Ordinal);

    /// <summary>How a trial's value reads: an integer, or a decimal rounded to two places (<c>75.71</c>).</summary>
    public static string FormatValue(Rational value)
    {
        if (value.IsInteger)
        {
            return value.Numerator.ToString(CultureInfo.InvariantCulture);
        }

        var rounded = System.Math.Round(value.ToDouble(), 2, MidpointRounding.AwayFromZero);
        return rounded == 0 ? "0" : rounded.ToString("0.##", CultureInfo.InvariantCulture);
    }

    private static string Check(Rational value, BigInteger target) =>
        value.IsWithinTolerance(target) ? Correct
        : (value.Numerator - (target * value.Denominator)).Sign > 0 ? TooHigh
        : TooLow;

    /// <summary>Up to <paramref name="count"/> distinct random equations that miss the target.</summary>
    private static List<TraceTrial> WrongTrials(CountdownTask task, BigInteger target, int count, SeededRandom random)
    {
        var trials = new List<TraceTrial>(count + 1);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 0; trials.Count < count && attempt < 8 * (count + 1); attempt++)
        {
            var trial = RandomEquation(task.Nums, random);
            if (!trial.Value.IsWithinTolerance(target) && seen.Add(trial.Equation))
            {
                trials.Add(trial);
            }
        }

        return trials;
    }

    /// <summary>Merges two random terms with a random operator until one is left (every number used once).</summary>
    private static TraceTrial RandomEquation(IReadOnlyList<long> nums, SeededRandom random)
    {
        var terms = nums.Select(n => new Term(Rational.FromInteger(n), n.ToString(CultureInfo.InvariantCulture), false)).ToList();
        while (terms.Count > 1)
        {
            var i = random.Next(0, terms.Count);
            var j = random.Next(0, terms.Count - 1);
            j += j >= i ? 1 : 0;
            var (left, right) = (terms[i], terms[j]);
            var op = Operators[random.Next(0, right.Value.IsZero ? 3 : 4)]; // never divide by zero
            var value = op switch
            {
                '+' => left.Value + right.Value,
                '-' => left.Value - right.Value,
                '*' => left.Value * right.Value,
                _ => left.Value / right.Value,
            };
            terms.RemoveAt(System.Math.Max(i, j));
            terms.RemoveAt(System.Math.Min(i, j));
            terms.Add(new Term(value, $"{Wrap(left)}{op}{Wrap(right)}", true));
        }

        return new TraceTrial(terms[0].Text, terms[0].Value);
    }

    private static string Wrap(Term term) => term.IsCompound ? $"({term.Text})" : term.Text;
}
