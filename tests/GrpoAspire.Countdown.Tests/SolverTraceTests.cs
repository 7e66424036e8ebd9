using System.Globalization;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Countdown.Solver;
using GrpoAspire.Countdown.Traces;

namespace GrpoAspire.Countdown.Tests;

public sealed class SolverTraceTests
{
    private static readonly CountdownScorer Scorer = new([new(RewardFunction.Format, 1), new(RewardFunction.Equation, 1)]);

    /// <summary>3,000 generated tasks with their solver answers (solved once, shared by the tests).</summary>
    private static readonly Lazy<(CountdownTask Task, string Solution)[]> Solved = new(() =>
        new TaskGenerator(seed: 77).Take(3000).AsParallel().AsOrdered()
            .Select(t => (t, CountdownSolver.Solve(t)!)).ToArray());

    [Fact]
    public void EverySolvedTraceScoresFormatOneAndEquationOneAndEveryNearMissFormatOneAndEquationZero()
    {
        var outcomes = new Dictionary<TraceOutcome, int>();
        for (var i = 0; i < Solved.Value.Length; i++)
        {
            var (task, solution) = Solved.Value[i];
            var trace = SolverTraces.Create(task, solution, SolverTraces.ExampleSeed(5, i));
            var score = Scorer.Score(trace.Completion, task);
            Assert.True(score.ValueOf(RewardFunction.Format) == 1, $"{task}: badly formed trace\n{trace.Completion}");
            var expected = trace.Outcome == TraceOutcome.Solved ? 1.0 : 0.0;
            Assert.True(score.ValueOf(RewardFunction.Equation) == expected, $"{task}: {trace.Outcome} trace scored {score.EquationVerdict}\n{trace.Completion}");
            if (trace.Outcome == TraceOutcome.NearMiss)
            {
                Assert.Equal(EquationVerdict.WrongValue, score.EquationVerdict);
            }

            outcomes[trace.Outcome] = outcomes.GetValueOrDefault(trace.Outcome) + 1;
        }

        // The default imperfect fraction is the prototype's 0.45; 3,000 draws put it within +-0.04 (> 4 sigma).
        Assert.InRange(outcomes[TraceOutcome.NearMiss] / 3000.0, 0.41, 0.49);
    }

    [Fact]
    public void TheImperfectFractionIsConfigurable()
    {
        var allSolved = new SolverTraceOptions { ImperfectFraction = 0 };
        var allMissed = new SolverTraceOptions { ImperfectFraction = 1 };
        foreach (var (task, solution) in Solved.Value.Take(500))
        {
            Assert.Equal(TraceOutcome.Solved, SolverTraces.Create(task, solution, 1, allSolved).Outcome);
            var missed = SolverTraces.Create(task, solution, 1, allMissed);
            Assert.Equal(TraceOutcome.NearMiss, missed.Outcome);
            Assert.Equal(1.0, Scorer.Score(missed.Completion, task).Total); // format 1, equation 0
        }
    }

    [Fact]
    public void NearMissesGiveUpAfterEveryNumberOfTrialsOnlyWhenAskedTo()
    {
        var atTheMost = new SolverTraceOptions { ImperfectFraction = 1 };
        var early = atTheMost with { GiveUpEarly = true };
        var counts = new List<int>();
        ulong seed = 0;
        foreach (var (task, solution) in Solved.Value.Take(500).Where(s => s.Task.Nums.Count == 4))
        {
            seed++;
            Assert.Equal(atTheMost.MaxTrialsManyNumbers, SolverTraces.Create(task, solution, seed, atTheMost).Trials.Count);
            var trace = SolverTraces.Create(task, solution, seed, early);
            Assert.Equal(TraceOutcome.NearMiss, trace.Outcome);
            counts.Add(trace.Trials.Count);
        }

        // Every count from 1 to the most, each about a quarter of the time (4 trials at most for 4 numbers).
        Assert.Equal([1, 2, 3, 4], counts.Distinct().Order());
        Assert.All(counts.GroupBy(c => c), g => Assert.InRange(g.Count() / (double)counts.Count, 0.15, 0.35));
    }

    [Fact]
    public void EachTrialUsesEveryNumberOnceAndShowsItsTrueValueAndCheck()
    {
        foreach (var (task, solution) in Solved.Value.Take(500))
        {
            var trace = SolverTraces.Create(task, solution, 9);
            var lines = trace.Completion.Split('\n')[1..^2]; // between the prefill's line and "</think>"
            Assert.Equal(trace.Trials.Count, lines.Length);
            foreach (var line in lines)
            {
                var (equation, rest) = (line[..line.IndexOf(" = ", StringComparison.Ordinal)], line[(line.IndexOf(" = ", StringComparison.Ordinal) + 3)..]);
                var (verdict, value) = EquationEvaluator.Evaluate(equation);
                Assert.Equal(EquationVerdict.Correct, verdict);
                Assert.True(EquationEvaluator.NumbersMatch(equation, task.Nums), $"{line} does not use {task.NumsAsPythonList}");
                var shown = double.Parse(rest[..rest.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                Assert.True(System.Math.Abs(shown - value.ToDouble()) <= 0.005 + 1e-9, $"{line}: the value is {value.ToDouble()}");
                var check = value.ToDouble() > task.Target ? SolverTraces.TooHigh : value.ToDouble() < task.Target ? SolverTraces.TooLow : SolverTraces.Correct;
                Assert.EndsWith(", " + check, line, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameTraceAndAnotherSeedAnotherTrace()
    {
        var (task, solution) = Solved.Value[0];
        Assert.Equal(SolverTraces.Create(task, solution, 3).Completion, SolverTraces.Create(task, solution, 3).Completion);
        var distinct = Enumerable.Range(0, 20).Select(s => SolverTraces.Create(task, solution, (ulong)s).Completion).Distinct().Count();
        Assert.True(distinct > 10, $"20 seeds gave only {distinct} distinct traces");
    }

    [Fact]
    public void ATraceReadsAsTheDocumentedExample()
    {
        var trace = SolverTraces.Create(new CountdownTask([14, 70, 80], 85), "80 + (70 / 14)", 0, new SolverTraceOptions { ImperfectFraction = 0 });
        Assert.EndsWith("\n80+(70/14) = 85, correct\n</think>\n<answer>80+(70/14)</answer>", trace.Completion, StringComparison.Ordinal);
        Assert.StartsWith("\n", trace.Completion, StringComparison.Ordinal);
        Assert.Equal("80+(70/14)", trace.Answer);
    }

    [Fact]
    public void BadSolutionsAndOptionsAreRejected()
    {
        var task = new CountdownTask([14, 70, 80], 85);
        Assert.Throws<ArgumentException>(() => SolverTraces.Create(task, "80 + 70", 0));
        Assert.Throws<ArgumentException>(() => SolverTraces.Create(task, "80+5", 0, new SolverTraceOptions { ImperfectFraction = 1.5 }));
        Assert.Throws<ArgumentException>(() => SolverTraces.Create(new CountdownTask([2, 2], 5), 0));
        Assert.Equal("75.71", SolverTraces.FormatValue(Arithmetic.Rational.Create(530, 7)));
        Assert.Equal("-3", SolverTraces.FormatValue(Arithmetic.Rational.FromInteger(-3)));
        Assert.Equal("0", SolverTraces.FormatValue(Arithmetic.Rational.Create(-1, 1000)));
    }

    /// <summary>A trace of each solved task, each checked to score format 1, and equation 1 exactly when it is solved.</summary>
    private static IEnumerable<(CountdownTask Task, SolverTrace Trace)> ScoredTraces(SolverTraceOptions options, ulong runSeed)
    {
        for (var i = 0; i < Solved.Value.Length; i++)
        {
            var (task, solution) = Solved.Value[i];
            var trace = SolverTraces.Create(task, solution, SolverTraces.ExampleSeed(runSeed, i), options);
            var score = Scorer.Score(trace.Completion, task);
            Assert.True(score.ValueOf(RewardFunction.Format) == 1, $"{task}: badly formed trace\n{trace.Completion}");
            Assert.True(score.ValueOf(RewardFunction.Equation) == (trace.Outcome == TraceOutcome.Solved ? 1.0 : 0.0), $"{task}: {trace.Outcome}\n{trace.Completion}");
            yield return (task, trace);
        }
    }

    /// <summary>The search lines of <paramref name="trace"/>, each checked to match <paramref name="line"/>, within the bounds.</summary>
    private static List<System.Text.RegularExpressions.Match> SearchLines(
        CountdownTask task, SolverTrace trace, System.Text.RegularExpressions.Regex line, int maxCharacters, int maxLines)
    {
        Assert.True(trace.Completion.Length <= maxCharacters, $"{trace.Completion.Length} characters:\n{trace.Completion}");
        var body = trace.Completion[1..trace.Completion.IndexOf("\n</think>", StringComparison.Ordinal)].Split('\n');
        Assert.InRange(body.Length, 1, maxLines);
        var matches = body.Select(l => line.Match(l)).ToList();
        for (var k = 0; k < body.Length; k++)
        {
            Assert.True(matches[k].Success, $"{task}: line '{body[k]}'");
        }

        return matches;
    }

    [Fact]
    public void StepwiseTracesComputeEveryLineRightAndClaimOnlyWhatTheArithmeticShows()
    {
        var options = new SolverTraceOptions { Style = TraceStyle.Stepwise, ImperfectFraction = 0.5 };
        var line = new System.Text.RegularExpressions.Regex(@"^(\d+)([-+*/])(\d+)=(-?\d+), (\d+)-(\d+)=(\d+), (yes|no)$");
        var counts = new Dictionary<(int Numbers, TraceOutcome Outcome), int>();
        var solvedLines = 0;
        foreach (var (task, trace) in ScoredTraces(options, runSeed: 9))
        {
            counts[(task.Nums.Count, trace.Outcome)] = counts.GetValueOrDefault((task.Nums.Count, trace.Outcome)) + 1;
            if (task.Nums.Count != 3)
            {
                Assert.Contains(" = ", trace.Completion, StringComparison.Ordinal); // four numbers keep the guessed trials
                continue;
            }

            var body = SearchLines(task, trace, line, maxCharacters: 256, options.MaxStepwiseLines);
            for (var k = 0; k < body.Count; k++)
            {
                var m = body[k];
                long Num(int g) => long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
                var (x, y) = (Num(1), Num(3));
                var r = m.Groups[2].Value switch { "+" => x + y, "-" => x - y, "*" => x * y, _ => x / y };
                Assert.Equal(r, Num(4));
                if (m.Groups[2].Value == "/")
                {
                    Assert.Equal(0, x % y);
                }

                Assert.Equal(Num(5) - Num(6), Num(7)); // the distance to the target, computed
                Assert.True(Num(5) == task.Target || Num(6) == task.Target, m.Value);
                var left = task.Nums.ToList();
                Assert.True(left.Remove(x) && left.Remove(y), $"{task}: '{m.Value}' uses numbers the task lacks");
                var yes = m.Groups[8].Value == "yes";
                Assert.Equal(Num(7) == left[0], yes); // yes exactly when the number left closes the equation
                Assert.Equal(yes, k == body.Count - 1 && trace.Outcome == TraceOutcome.Solved); // a solved trace stops at its first yes
                solvedLines += yes ? 1 : 0;
            }
        }

        // Half the traces give up when the search has lines before its "yes", and about 1 task in 6 has no line that
        // closes (its equations need * or / as the last step): so between a third and two thirds are solved.
        var three = counts.GetValueOrDefault((3, TraceOutcome.Solved)) + counts.GetValueOrDefault((3, TraceOutcome.NearMiss));
        Assert.InRange(counts[(3, TraceOutcome.Solved)] / (double)three, 0.33, 0.67);
        Assert.Equal(counts[(3, TraceOutcome.Solved)], solvedLines);
        Assert.True(counts[(4, TraceOutcome.NearMiss)] > 0 && counts[(4, TraceOutcome.Solved)] > 0);
        Assert.Throws<ArgumentException>(() => SolverTraces.Create(Solved.Value[0].Task, Solved.Value[0].Solution, 0, options with { MaxStepwiseLines = 0 }));
    }

    [Fact]
    public void AStepwiseTraceReadsAsDocumented()
    {
        var options = new SolverTraceOptions { Style = TraceStyle.Stepwise, ImperfectFraction = 0 };
        var trace = SolverTraces.Create(new CountdownTask([87, 51, 37], 73), "(37+87)-51", 3, options);
        // two lines close this task: 87+37 = 124 is 51 above the target, and 87-51 = 36 is 37 below it
        var endings = new[]
        {
            "\n87+37=124, 124-73=51, yes\n</think>\n<answer>(87+37)-51</answer>",
            "\n87-51=36, 73-36=37, yes\n</think>\n<answer>(87-51)+37</answer>",
        };
        Assert.Contains(endings, e => trace.Completion.EndsWith(e, StringComparison.Ordinal));
        Assert.Equal(TraceOutcome.Solved, trace.Outcome);
        Assert.Contains(", no\n", SolverTraces.Create(new CountdownTask([87, 51, 37], 73), "(37+87)-51", 3, options with { ImperfectFraction = 1 }).Completion, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TraceStyle.Stepwise, 0.6, 43, "262273717B73A33B8E0F1D2C6072150D9931F61DBA090A070A9CB530E3A5544E")]
    [InlineData(TraceStyle.Chain, 0.9, 44, "1EAAD20F2C6E25E99F64BB0B40470754F33D2B0543EE4D928CF96E5EFD666B4B")]
    public void TracesStayAsTheShippedWarmStartWasTrainedOn(TraceStyle style, double imperfect, ulong seed, string expected)
    {
        // models/countdown-tiny's stages 2 (stepwise) and 3 (chain) were trained on these traces; their documented
        // commands must keep making them
        var options = new SolverTraceOptions { Style = style, ImperfectFraction = imperfect, GiveUpEarly = true };
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < 600; i++)
        {
            var (task, solution) = Solved.Value[i];
            text.Append(SolverTraces.Create(task, solution, SolverTraces.ExampleSeed(seed, i), options).Completion).Append('\0');
        }

        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
        Assert.Equal(expected, hash);
    }

    [Fact]
    public void ChainTracesComputeEveryMergeRightAndSayYesExactlyWhereTheNumberLeftCloses()
    {
        var options = new SolverTraceOptions { Style = TraceStyle.Chain, ImperfectFraction = 0.5, GiveUpEarly = true };
        var line = new System.Text.RegularExpressions.Regex(@"^(\d+)([-+*/])(\d+)=(\d+), (\d+)([-+*/])(\d+)=(\d+), (\d+)-(\d+)=(\d+), (yes|no)$");
        var solved = 0;
        var four = 0;
        foreach (var (task, trace) in ScoredTraces(options, runSeed: 11))
        {
            if (task.Nums.Count == 3)
            {
                Assert.DoesNotContain(" = ", trace.Completion, StringComparison.Ordinal); // three numbers: the stepwise lines
                continue;
            }

            four++;
            solved += trace.Outcome == TraceOutcome.Solved ? 1 : 0;
            var body = SearchLines(task, trace, line, maxCharacters: 320, options.MaxChainLines);
            for (var k = 0; k < body.Count; k++)
            {
                var m = body[k];
                long Num(int g) => long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
                static long Apply(long x, string op, long y) => op switch { "+" => x + y, "-" => x - y, "*" => x * y, _ => x % y == 0 ? x / y : -1 };
                Assert.Equal(Apply(Num(1), m.Groups[2].Value, Num(3)), Num(4));
                Assert.Equal(Apply(Num(5), m.Groups[6].Value, Num(7)), Num(8));
                Assert.True(Num(5) >= Num(7) && Num(1) >= Num(3), m.Value); // the larger number first
                Assert.Equal(Num(9) - Num(10), Num(11));
                Assert.True((Num(9), Num(10)) == (task.Target, Num(8)) || (Num(9), Num(10)) == (Num(8), task.Target), m.Value);
                var left = task.Nums.ToList();
                Assert.True(left.Remove(Num(1)) && left.Remove(Num(3)), $"{task}: '{m.Value}' uses numbers the task lacks");
                Assert.True(Num(5) == Num(4) ? left.Remove(Num(7)) : Num(7) == Num(4) && left.Remove(Num(5)), $"{task}: '{m.Value}' merges no result");
                var yes = m.Groups[12].Value == "yes";
                Assert.Equal(Num(11) == left.Single(), yes);
                Assert.Equal(yes, k == body.Count - 1 && trace.Outcome == TraceOutcome.Solved);
            }
        }

        // Half the traces give up before their "yes", and about a third of four-number tasks have no chain that closes
        Assert.InRange(solved / (double)four, 0.2, 0.5);
        Assert.Throws<ArgumentException>(() => SolverTraces.Create(Solved.Value[0].Task, Solved.Value[0].Solution, 0, options with { MaxChainLines = 0 }));
    }

    [Fact]
    public void AChainTraceReadsAsDocumented()
    {
        var options = new SolverTraceOptions { Style = TraceStyle.Chain, ImperfectFraction = 0 };
        var trace = SolverTraces.Create(new CountdownTask([56, 2, 13, 4], 71), "((56-2)+13)+4", 5, options);
        Assert.Equal(TraceOutcome.Solved, trace.Outcome);
        Assert.Matches(@", yes\n</think>\n<answer>[^<]+</answer>$", trace.Completion);
        Assert.Equal(EquationVerdict.Correct, EquationEvaluator.Check(trace.Answer, new CountdownTask([56, 2, 13, 4], 71)));
        var all = Enumerable.Range(0, 400).Select(seed => SolverTraces.Create(new CountdownTask([56, 2, 13, 4], 71), "((56-2)+13)+4", (ulong)seed, options).Completion);
        Assert.Contains(all, c => c.EndsWith("\n56-2=54, 54+13=67, 71-67=4, yes\n</think>\n<answer>((56-2)+13)+4</answer>", StringComparison.Ordinal));
        // a merged pair subtracted from the larger number left: 50-(10-3) = 43, 5 below the target
        var task = new CountdownTask([10, 3, 50, 5], 48);
        Assert.Contains(
            Enumerable.Range(0, 400).Select(seed => SolverTraces.Create(task, "(50-(10-3))+5", (ulong)seed, options).Completion),
            c => c.EndsWith("\n10-3=7, 50-7=43, 48-43=5, yes\n</think>\n<answer>(50-(10-3))+5</answer>", StringComparison.Ordinal));
    }
}
