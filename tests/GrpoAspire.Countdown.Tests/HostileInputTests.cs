using System.Diagnostics;
using System.Text;
using CsCheck;
using GrpoAspire.Countdown.Arithmetic;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Countdown.Tests;

/// <summary>
/// No input makes the scorer throw, overflow the stack or hang. Timing is measured properly by the
/// reward benchmark; the bound here only catches a blow-up (super-linear work) on a 1 MB input.
/// </summary>
public sealed class HostileInputTests
{
    private const int OneMegabyte = 1 << 20;
    private static readonly TimeSpan BlowUpGuard = TimeSpan.FromSeconds(2);
    private static readonly CountdownTask Task = new([14, 70, 80], 85);

    public static TheoryData<string, string> HostileCompletions() => new()
    {
        { "100k '<'", new string('<', 100_000) },
        { "1 MB of '<'", new string('<', OneMegabyte) },
        { "1 MB of '(' in an answer", " t</think>\n<answer>" + new string('(', OneMegabyte) + "80 + 70 / 14</answer>" },
        { "100k '(' balanced", " t</think>\n<answer>" + new string('(', 100_000) + "80" + new string(')', 100_000) + " + 70 / 14</answer>" },
        { "5000-digit literal", " t</think>\n<answer>" + new string('7', 5000) + " + 80 + 70 / 14</answer>" },
        { "1 MB unary minus chain", " t</think>\n<answer>" + Repeat("- ", OneMegabyte / 2) + "80 + 70 / 14</answer>" },
        { "many answer tags", Repeat("<answer>(", 100_000) + "</answer>" },
        { "answer tags split by newlines", Repeat("<answer>1\n", 100_000) + "</answer>" },
        { "many think tags", Repeat("<think></think>\n", 60_000) + "<answer>80 + 70 / 14</answer>" },
        { "regex-style bait", "<think>" + Repeat("<t", 200_000) + "</think>\n<answer>" + Repeat("</answer", 50_000) },
        { "nul and surrogates", "\0\ud800\udfff\uffff" + new string('\0', 1000) },
    };

    [Theory]
    [MemberData(nameof(HostileCompletions))]
    public void HostileCompletionsAreScoredWithoutErrorOrBlowUp(string name, string completion)
    {
        var scorer = new CountdownScorer([
            new(RewardFunction.Format, 1), new(RewardFunction.Equation, 1), new(RewardFunction.EquationTinyZero, 1)]);
        scorer.Score(completion, Task); // warm-up (JIT)
        var watch = Stopwatch.StartNew();
        var score = scorer.Score(completion, Task);
        watch.Stop();
        Assert.True(watch.Elapsed < BlowUpGuard, $"{name}: {watch.Elapsed.TotalMilliseconds} ms");
        Assert.InRange(score.Total, 0.0, 3.0);
    }

    [Fact]
    public void DeeplyNestedParenthesesAroundTheRightNumbersStillEvaluate()
    {
        var depth = 200_000;
        var equation = new string('(', depth) + "80 + 70 / 14" + new string(')', depth);
        Assert.Equal(EquationVerdict.Correct, EquationEvaluator.Check(equation, Task));
    }

    [Fact]
    public void StacksDeeperThanTheirBuffersKeepEveryOperatorAndOperand()
    {
        // 40 negations around the answer: 80 operators stacked at once, far past the stack's buffer; an even count keeps
        // the sign, an odd one flips it.
        Assert.Equal(EquationVerdict.Correct, EquationEvaluator.Check(Negated(40, "80 + 70 / 14"), Task));
        Assert.Equal(EquationVerdict.WrongValue, EquationEvaluator.Check(Negated(39, "80 + 70 / 14"), Task));

        // 1 + (2 + (3 + ... (30))): 30 operands stacked at once.
        var sum = string.Join(" + (", Enumerable.Range(1, 30)) + new string(')', 29);
        Assert.Equal((EquationVerdict.Correct, Rational.FromInteger(465)), EquationEvaluator.Evaluate(sum));

        static string Negated(int times, string equation) =>
            string.Concat(Enumerable.Repeat("-(", times)) + equation + new string(')', times);
    }

    [Fact]
    public void RandomStringsNeverThrow()
    {
        var scorer = new CountdownScorer([
            new(RewardFunction.Format, 1), new(RewardFunction.Equation, 1), new(RewardFunction.EquationTinyZero, 1)]);
        Gen.String.Sample(s => Assert.InRange(scorer.Score(s, Task).Total, 0.0, 3.0), iter: 20_000);
        var answerish = Gen.OneOf("<answer>", "</answer>", "(", ")", "+", "-", "*", "/", "**", ".", " ", "14", "70", "80", "0", "\n")
            .Array[0, 30].Select(p => " t</think>\n<answer>" + string.Concat(p) + "</answer>");
        answerish.Sample(s => Assert.InRange(scorer.Score(s, Task).Total, 0.0, 3.0), iter: 20_000);
    }

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();
}
