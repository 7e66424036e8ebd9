using System.Text.RegularExpressions;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Countdown.Tests;

/// <summary>The successful reasoning samples printed in the seed all score format 1 and equation 1.</summary>
public sealed class SeedSampleTests
{
    // The tasks of the eight samples, in the order the seed prints them (numbers as the samples name them).
    private static readonly CountdownTask[] SampleTasks =
    [
        new([14, 70, 80], 85),
        new([1, 21, 90], 68),
        new([59, 80, 66], 45),
        new([61, 4, 94, 21], 50),
        new([63, 25, 57], 31),
        new([39, 16, 55], 78),
        new([21, 5, 40], 24),
        new([75, 99, 62, 34], 72),
    ];

    /// <summary>
    /// Reads the samples from the seed text. The page was scraped with the "&lt;/" of closing tags lost
    /// ("= 85think&gt;", "80 + (70 / 14) answer&gt;"), so those are restored; the leading &lt;think&gt; is
    /// the assistant prefill, which is not part of what the model generated.
    /// </summary>
    internal static IReadOnlyList<string> ReadSeedCompletions()
    {
        var text = File.ReadAllText(SharedPaths.SeedText).Replace("\r\n", "\n", StringComparison.Ordinal);
        var samples = Regex.Matches(text, @"^<think>.*?answer>$", RegexOptions.Singleline | RegexOptions.Multiline)
            .Select(m => m.Value)
            .ToList();
        return samples
            .Select(sample => Regex.Replace(sample, "(?<!<)(?<!</)think>", "</think>"))
            .Select(sample => Regex.Replace(sample, "(?<!<)(?<!</)answer>", "</answer>"))
            .Select(sample => sample["<think>".Length..])
            .ToList();
    }

    [Fact]
    public void TheSeedPrintsEightSuccessfulSamples()
    {
        Assert.Equal(SampleTasks.Length, ReadSeedCompletions().Count);
    }

    [Fact]
    public void EverySeedSampleScoresOneForFormatAndOneForEquation()
    {
        var scorer = new CountdownScorer();
        var completions = ReadSeedCompletions();
        for (var i = 0; i < completions.Count; i++)
        {
            var score = scorer.Score(completions[i], SampleTasks[i]);
            Assert.True(
                score.ValueOf(RewardFunction.Format) == 1.0 && score.ValueOf(RewardFunction.Equation) == 1.0,
                $"sample {i + 1}: format {score.ValueOf(RewardFunction.Format)}, equation verdict {score.EquationVerdict}");
            Assert.Equal(2.0, score.Total);
        }
    }

    [Fact]
    public void ASeedSampleWithItsClosingTagsStillMangledFailsTheFormat()
    {
        var mangled = " First attempt: 80 + (70 / 14) = 85think>\n<answer> 80 + (70 / 14) answer>";
        var score = new CountdownScorer().Score(mangled, SampleTasks[0]);
        Assert.Equal(0.0, score.Total);
        Assert.Equal(EquationVerdict.NoAnswer, score.EquationVerdict);
    }
}
