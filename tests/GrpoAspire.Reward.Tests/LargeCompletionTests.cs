using System.Text;
using static GrpoAspire.Reward.Tests.Requests;

namespace GrpoAspire.Reward.Tests;

/// <summary>Megabyte-sized hostile completions, with <c>Reward:MaxCompletionBytes</c> raised to 2 MiB.</summary>
public sealed class LargeCompletionTests(LargeCompletionFixture service) : IClassFixture<LargeCompletionFixture>
{
    private const int Megabyte = 1_000_000;

    private static string Repeat(string text, int totalLength)
    {
        var builder = new StringBuilder(totalLength + text.Length);
        while (builder.Length < totalLength)
        {
            builder.Append(text);
        }

        return builder.ToString();
    }

    [Fact]
    public async Task OneMegabyteHostileCompletionsScoreWithoutError()
    {
        var deepParens = new string('(', Megabyte / 2) + "3 * 5 + 7" + new string(')', Megabyte / 2);
        var request = Score(
            Completion("unclosed-answers", Repeat("<answer>", Megabyte)),
            Completion("deep-parens", $" deep </think>\n<answer>{deepParens}</answer>"),
            Completion("negations", $"</think>\n<answer>{new string('-', Megabyte)}3 * 5 + 7</answer>"),
            Completion("digits", $"</think>\n<answer>{new string('9', Megabyte)}</answer>"),
            Completion("think-tags", Repeat("<think></think>\n<answer>", Megabyte)));

        var response = await service.Client.ScoreAsync(request);

        var scores = response.Scores.ToDictionary(s => s.Id);
        Assert.Equal(5, scores.Count);
        Assert.Equal("no_answer", scores["unclosed-answers"].Verdict);
        Assert.Equal("correct", scores["deep-parens"].Verdict);
        Assert.Equal(2.0, scores["deep-parens"].Total);
        // An even number of unary minuses leaves 22.
        Assert.Equal("correct", scores["negations"].Verdict);
        Assert.Equal("numbers_mismatch", scores["digits"].Verdict);
        Assert.Equal(0.0, scores["think-tags"].Total);
    }

    [Fact]
    public async Task CompletionOverTheRaisedLimitIsStillInvalid()
    {
        var text = new string('x', LargeCompletionFixture.MaxCompletionBytes + 1);

        await AssertInvalidArgument(
            async () => await service.Client.ScoreAsync(Score(Completion("huge", text))),
            $"MaxCompletionBytes {LargeCompletionFixture.MaxCompletionBytes}");
    }

    [Fact]
    public async Task UnaryBatchAboveKestrelsDefaultBodyLimitIsScored()
    {
        // 500 completions of 64 000 bytes: 32 MB, over Kestrel's 30 MB default, under the 64 MiB message cap.
        var text = new string('x', 64_000);
        var request = Score(Enumerable.Range(0, 500).Select(i => Completion($"c{i}", text)).ToArray());

        var response = await service.Client.ScoreAsync(request);

        Assert.Equal(500, response.Scores.Count);
    }
}
