using System.Text.Json;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>
/// A tokenizer written by <c>grpo tokenizer train</c> (tests/fixtures/tokenizer/trained-tokenizer.json) against the
/// ids Hugging Face tokenizers gives it (trained_ids.jsonl, written by make_trained_fixture.mjs): Hugging Face reads
/// our file as QwenTokenizer does.
/// </summary>
public sealed class TrainedTokenizerParityTests
{
    private static readonly Lazy<QwenTokenizer> Tokenizer =
        new(() => QwenTokenizer.FromFile(Path.Combine(QwenFixture.Folder, "trained-tokenizer.json")));

    private static readonly Lazy<IReadOnlyList<FixtureText>> Texts = new(() =>
        [.. File.ReadLines(Path.Combine(QwenFixture.Folder, "trained_ids.jsonl"))
            .Where(line => line.Length > 0)
            .Select(line => JsonSerializer.Deserialize<FixtureText>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)]);

    public static TheoryData<int> TextLines => [.. Enumerable.Range(0, Texts.Value.Count)];

    [Theory]
    [MemberData(nameof(TextLines))]
    public void EncodeGivesTheHuggingFaceIds(int line)
    {
        var expected = Texts.Value[line];
        Assert.Equal(expected.Ids, Tokenizer.Value.Encode(expected.Text));
    }

    [Theory]
    [MemberData(nameof(TextLines))]
    public void DecodeOfTheHuggingFaceIdsGivesBackTheTextInNfc(int line)
    {
        var expected = Texts.Value[line];
        Assert.Equal(expected.Decoded, Tokenizer.Value.Decode(expected.Ids));
    }

    [Fact]
    public void TheFixtureHoldsCountdownTextAndLearnedMerges()
    {
        Assert.True(Texts.Value.Count > 300, $"only {Texts.Value.Count} texts");
        Assert.Equal(845, Tokenizer.Value.VocabSize);
        var trace = Texts.Value[1];
        Assert.StartsWith("\n(80+70)-14 = 136, too high", trace.Text, StringComparison.Ordinal);
        Assert.True(trace.Ids.Length < trace.Text.Length * 2 / 3, $"{trace.Ids.Length} ids for {trace.Text.Length} characters");
    }
}
