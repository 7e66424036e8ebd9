using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Countdown.Tests;

public sealed class EquationRewardTests
{
    private static readonly CountdownTask Task85 = new([14, 70, 80], 85);

    private static EquationVerdict Check(string equation, CountdownTask? task = null) =>
        EquationEvaluator.Check(equation, task ?? Task85);

    [Theory]
    [InlineData("80 + (70 / 14)")]
    [InlineData(" 80+70/14 ")]
    [InlineData("70 / 14 + 80")]
    [InlineData("(((80))) + ((70) / (14))")]
    [InlineData("\t80 + 70 / 14\f")]
    [InlineData("+80 + (70 / +14)")]
    [InlineData("80 - (-70 / 14)")]
    [InlineData("80 - - (70 / 14)")]
    public void WellFormedAnswersThatReachTheTargetAreCorrect(string equation)
    {
        Assert.Equal(EquationVerdict.Correct, Check(equation));
    }

    [Theory]
    [InlineData("80 + 70 - 14", EquationVerdict.WrongValue)]
    [InlineData("80 + 70 / 14 = 85", EquationVerdict.NumbersMismatch)]
    [InlineData("80 + 5", EquationVerdict.NumbersMismatch)]
    [InlineData("80 + 70 / 14 + 14", EquationVerdict.NumbersMismatch)]
    [InlineData("80 + 70", EquationVerdict.NumbersMismatch)]
    [InlineData("80 + 70 / 14 x", EquationVerdict.InvalidCharacters)]
    [InlineData("80 + (70 / 14", EquationVerdict.SyntaxError)]
    [InlineData("80 + 70) / 14", EquationVerdict.SyntaxError)]
    [InlineData("80 70 / 14", EquationVerdict.SyntaxError)]
    [InlineData("80 (70 / 14)", EquationVerdict.SyntaxError)]
    [InlineData("80 + () 70 / 14", EquationVerdict.SyntaxError)]
    [InlineData("80 + * 70 / 14", EquationVerdict.SyntaxError)]
    [InlineData("80 * * 70 / 14", EquationVerdict.SyntaxError)]
    [InlineData("80 + 70 / 14 +", EquationVerdict.SyntaxError)]
    [InlineData("080 + 70 / 14", EquationVerdict.SyntaxError)]
    [InlineData("80 + 70\v/ 14", EquationVerdict.SyntaxError)]
    [InlineData("80 + 70 / (14 - 14)", EquationVerdict.NumbersMismatch)]
    public void EachWayToFailHasItsVerdict(string equation, EquationVerdict expected)
    {
        Assert.Equal(expected, Check(equation));
    }

    [Fact]
    public void ACarriageReturnIsWhitespaceInsideParenthesesOnlyAsInPython()
    {
        // Python joins lines inside brackets: eval("(5 *\r4)") == 20, while "5 *\r4" is a syntax error.
        var task = new CountdownTask([5, 4], 20);
        Assert.Equal(EquationVerdict.Correct, Check("(5 *\r4)", task));
        Assert.Equal(EquationVerdict.SyntaxError, Check("5 *\r4", task));
        Assert.Equal(EquationVerdict.SyntaxError, Check("(5) *\r4", task));
    }

    [Fact]
    public void NumbersAtTheEdgeOfSixtyFourBitsAreReadExactly()
    {
        // long.MaxValue is a number of the task; one more is not (it would wrap to long.MinValue if read carelessly).
        var largest = new CountdownTask([9223372036854775807, 1], 9223372036854775806);
        Assert.Equal(EquationVerdict.Correct, Check("9223372036854775807 - 1", largest));
        Assert.Equal(EquationVerdict.NumbersMismatch, Check("9223372036854775808 - 1", largest));
        Assert.Equal(EquationVerdict.NumbersMismatch, Check("18446744073709551617 - 1", largest));
        // Values past 64 bits are evaluated exactly: 2^63 + 2^63 - 2^64 is 0.
        Assert.Equal(
            (EquationVerdict.Correct, Arithmetic.Rational.FromInteger(0)),
            EquationEvaluator.Evaluate("9223372036854775808 + 9223372036854775808 - 18446744073709551616"));
        Assert.Equal(
            (EquationVerdict.Correct, Arithmetic.Rational.FromInteger(9223372036854775807)),
            EquationEvaluator.Evaluate("9223372036854775807"));
        Assert.Equal(
            (EquationVerdict.Correct, Arithmetic.Rational.FromInteger(9223372036854775808)),
            EquationEvaluator.Evaluate("9223372036854775808"));
        Assert.Equal(
            (EquationVerdict.Correct, Arithmetic.Rational.FromInteger(System.Numerics.BigInteger.Pow(10, 30))),
            EquationEvaluator.Evaluate("1000000000000000000000000000000"));
    }

    [Fact]
    public void DivisionByZeroScoresZero()
    {
        Assert.Equal(EquationVerdict.DivisionByZero, Check("10 / (5 - 5)", new CountdownTask([10, 5, 5], 2)));
        Assert.Equal(EquationVerdict.DivisionByZero, Check("(10 / (5 - 5))", new CountdownTask([10, 5, 5], 2)));
    }

    [Theory]
    [InlineData("2 ** 3 + 1", new long[] { 2, 3, 1 }, EquationVerdict.PowerOperator)]
    [InlineData("17 // 2 + 1", new long[] { 17, 2, 1 }, EquationVerdict.FloorDivision)]
    [InlineData("8.0 + 1", new long[] { 8, 0, 1 }, EquationVerdict.DecimalLiteral)]
    [InlineData("8. + 1", new long[] { 8, 1 }, EquationVerdict.DecimalLiteral)]
    public void PowerFloorDivisionAndDecimalsAreDeliberateDeviationsThatScoreZero(
        string equation, long[] nums, EquationVerdict expected)
    {
        // The seed's eval would accept each of these (value 9, the right numbers); they are not game operations.
        Assert.Equal(expected, Check(equation, new CountdownTask(nums, 9)));
    }

    [Fact]
    public void ArithmeticIsExact()
    {
        Assert.Equal(EquationVerdict.Correct, Check("1 / 3 * 3", new CountdownTask([1, 3, 3], 1)));
        Assert.Equal(EquationVerdict.Correct, Check("(1 / 3 + 1 / 3 + 1 / 3)", new CountdownTask([1, 3, 1, 3, 1, 3], 1)));
        Assert.Equal(EquationVerdict.WrongValue, Check("100 / 99 * 1", new CountdownTask([100, 99, 1], 1)));
    }

    [Fact]
    public void ValuesWithinOneHundredThousandthOfTheTargetCountAsCorrect()
    {
        // 1/100001 from the target: inside the seed's 1e-5 tolerance; 1/99999 is outside.
        Assert.Equal(EquationVerdict.Correct, Check("1 + 1 / 100001", new CountdownTask([1, 1, 100001], 1)));
        Assert.Equal(EquationVerdict.WrongValue, Check("1 + 1 / 99999", new CountdownTask([1, 1, 99999], 1)));
    }

    [Fact]
    public void NonAsciiDigitsAreNotNumbers()
    {
        // Python's eval rejects them as well, so the seed's score (0) is unchanged.
        Assert.Equal(EquationVerdict.InvalidCharacters, Check("80 + (70 / 14) + \u0663"));
        Assert.Equal(EquationVerdict.NumbersMismatch, Check("80 + (70 / \u0661\u0664)"));
    }

    [Fact]
    public void NumbersAreCheckedAsAMultiset()
    {
        var task = new CountdownTask([5, 5, 2], 12);
        Assert.Equal(EquationVerdict.Correct, Check("5 + 5 + 2", task));
        Assert.Equal(EquationVerdict.NumbersMismatch, Check("5 + 2 + 2 + 3", task));
        Assert.Equal(EquationVerdict.NumbersMismatch, Check("5 * 2 + 2", task));
        Assert.Equal(EquationVerdict.NumbersMismatch, Check("5 + 5 + 2 + 0", task));
    }

    [Fact]
    public void LeadingZerosMatchTheNumberButFailAsPythonSyntax()
    {
        var task = new CountdownTask([5, 7], 12);
        Assert.Equal(EquationVerdict.SyntaxError, Check("05 + 7", task));
        Assert.Equal(EquationVerdict.Correct, Check("00 + 5 + 7", new CountdownTask([0, 5, 7], 12)));
    }

    [Fact]
    public void TheFirstOneLineAnswerIsTheOneThatCounts()
    {
        var scorer = new CountdownScorer();
        var twoAnswers = " t</think>\n<answer>80 + 70 - 14</answer> <answer>80 + (70 / 14)</answer>";
        Assert.Equal(EquationVerdict.WrongValue, scorer.Score(twoAnswers, Task85).EquationVerdict);

        var brokenFirst = " t</think>\n<answer>80 +\n70</answer> <answer>80 + (70 / 14)</answer>";
        Assert.Equal(EquationVerdict.Correct, scorer.Score(brokenFirst, Task85).EquationVerdict);
        // The format allows a multi-line answer block; the equation reads the first one-line answer.
        Assert.Equal(1.0, scorer.Score(brokenFirst, Task85).ValueOf(RewardFunction.Format));
    }

    [Fact]
    public void TinyZeroGivesPartialCreditToAWellFormedWrongAnswer()
    {
        var weights = new[] { new RewardWeight(RewardFunction.EquationTinyZero, 1.0) };
        var scorer = new CountdownScorer(weights);
        Assert.Equal(1.0, scorer.Score("t</think>\n<answer>80 + (70 / 14)</answer>", Task85).Total);
        Assert.Equal(0.1, scorer.Score("t</think>\n<answer>80 + 70 - 14</answer>", Task85).Total);
        Assert.Equal(0.1, scorer.Score("t</think>\n<answer>1 + 2</answer>", Task85).Total);
        Assert.Equal(0.0, scorer.Score("t</think>\nno answer", Task85).Total);
        // TinyZero reads only the last line.
        Assert.Equal(0.0, scorer.Score("<answer>80 + (70 / 14)</answer>\nthe end", Task85).Total);
    }

    [Fact]
    public void TheTotalIsTheWeightedSumOfTheFunctions()
    {
        var scorer = new CountdownScorer([new(RewardFunction.Format, 0.5), new(RewardFunction.Equation, 2.0)]);
        var score = scorer.Score(" ok</think>\n<answer>80 + (70 / 14)</answer>", Task85);
        Assert.Equal(2.5, score.Total);
        Assert.Equal([RewardFunction.Format, RewardFunction.Equation], score.Values.Select(v => v.Function));
    }

    [Fact]
    public void ScorerRejectsDuplicateOrNonFiniteWeights()
    {
        Assert.Throws<ArgumentException>(() => new CountdownScorer([new(RewardFunction.Format, 1), new(RewardFunction.Format, 2)]));
        Assert.Throws<ArgumentException>(() => new CountdownScorer([new(RewardFunction.Format, double.NaN)]));
        Assert.Throws<ArgumentException>(() => new CountdownScorer([]));
        var error = Assert.Throws<ArgumentException>(() => RewardFunctionNames.Parse("accuracy"));
        Assert.Contains("equation_tinyzero", error.Message, StringComparison.Ordinal);
    }
}
