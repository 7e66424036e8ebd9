using System.Text.RegularExpressions;
using CsCheck;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Countdown.Tests;

public sealed class FormatRewardTests
{
    /// <summary>The seed's format regex, applied as the seed applies it (DOTALL, on "&lt;think&gt;" + completion).</summary>
    private static readonly Regex SeedFormat = new(
        @"^<think>([^<]*(?:<(?!/?think>)[^<]*)*)<\/think>\n<answer>([\s\S]*?)<\/answer>$",
        RegexOptions.Singleline | RegexOptions.CultureInvariant);

    private static readonly Regex SeedAnswer = new(@"<answer>(.*?)<\/answer>", RegexOptions.CultureInvariant);

    [Theory]
    [InlineData(" reasoning</think>\n<answer>1 + 2</answer>", true)]
    [InlineData("</think>\n<answer></answer>", true)]
    [InlineData(" a < b and <thinking> is fine</think>\n<answer>x</answer>", true)]
    [InlineData(" ok</think>\n<answer>x</answer>\n", true)]
    [InlineData(" ok</think>\n<answer>line one\nline two</answer>", true)]
    [InlineData(" ok</think>\n<answer>x</answer>\n\n", false)]
    [InlineData(" ok</think>\n<answer>x</answer> trailing", false)]
    [InlineData(" ok</think><answer>x</answer>", false)]
    [InlineData(" ok</think>\n\n<answer>x</answer>", false)]
    [InlineData(" nested <think> again</think>\n<answer>x</answer>", false)]
    [InlineData(" first</think> second</think>\n<answer>x</answer>", false)]
    [InlineData(" no closing think\n<answer>x</answer>", false)]
    [InlineData(" ok</think>\n<answer>x", false)]
    [InlineData("", false)]
    public void FormatMatchesTheSeedsRegexOnHandPickedCases(string completion, bool expected)
    {
        Assert.Equal(expected, CompletionFormat.IsWellFormed(completion));
        Assert.Equal(expected, SeedFormat.IsMatch("<think>" + completion));
    }

    /// <summary>Strings built from the tags and characters that matter to the regexes.</summary>
    private static readonly Gen<string> TagSoup = Gen.OneOf(
            "<think>", "</think>", "<answer>", "</answer>", "<", ">", "/", "\n", "think>", "answer>", "a", " ", "1", "+",
            "<answer", "</think", "\r")
        .Array[0, 24]
        .Select(parts => string.Concat(parts));

    [Fact]
    public void FormatAgreesWithTheSeedsRegexOnRandomTagSoup()
    {
        TagSoup.Sample(
            completion => Assert.Equal(SeedFormat.IsMatch("<think>" + completion), CompletionFormat.IsWellFormed(completion)),
            iter: 20_000);
    }

    [Fact]
    public void FirstAnswerAgreesWithTheSeedsRegexOnRandomTagSoup()
    {
        TagSoup.Sample(
            completion =>
            {
                var match = SeedAnswer.Match("<think>" + completion);
                var range = CompletionFormat.FindFirstAnswer(completion);
                Assert.Equal(match.Success, range.HasValue);
                if (range is { } r)
                {
                    Assert.Equal(match.Groups[1].Value, completion[r]);
                }
            },
            iter: 20_000);
    }

    [Fact]
    public void TinyZeroAnswerIsTheLastOneOnTheLastLine()
    {
        TagSoup.Sample(
            completion =>
            {
                var lastLine = completion[(completion.LastIndexOf('\n') + 1)..];
                var matches = SeedAnswer.Matches(lastLine);
                var range = CompletionFormat.FindLastAnswerOnLastLine(completion);
                Assert.Equal(matches.Count > 0, range.HasValue);
                if (range is { } r)
                {
                    Assert.Equal(matches[^1].Groups[1].Value, completion[r]);
                }
            },
            iter: 20_000);
    }
}
