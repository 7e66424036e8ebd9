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
}
