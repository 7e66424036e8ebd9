using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>Ids against Hugging Face tokenizers (Rust) on Qwen's real tokenizer.json.</summary>
[Collection(QwenCollection.Name)]
public sealed class QwenTokenizerParityTests(QwenFixture fixture)
{
    private readonly QwenTokenizer _tokenizer = fixture.Tokenizer;

    [Theory]
    [MemberData(nameof(QwenFixture.TextLines), MemberType = typeof(QwenFixture))]
    public void EncodeGivesTheHuggingFaceIdsForEveryFixtureText(int line)
    {
        var expected = QwenFixture.Texts[line];
        Assert.Equal(expected.Ids, _tokenizer.Encode(expected.Text));
    }

    [Theory]
    [MemberData(nameof(QwenFixture.TextLines), MemberType = typeof(QwenFixture))]
    public void DecodeOfEncodeGivesBackTheTextInNfc(int line)
    {
        var expected = QwenFixture.Texts[line];
        Assert.Equal(expected.Decoded, _tokenizer.Decode(_tokenizer.Encode(expected.Text)));
    }

    [Fact]
    public void TheFixtureHasAtLeastTwoHundredTextsIncludingTheEmptyOne()
    {
        Assert.True(QwenFixture.Texts.Count >= 200, $"only {QwenFixture.Texts.Count} texts");
        Assert.Contains(QwenFixture.Texts, t => t.Text.Length == 0 && t.Ids.Length == 0);
    }

    [Fact]
    public void DigitsAreSplitOneTokenEach()
    {
        var ids = _tokenizer.Encode("12345678901234567890");
        Assert.Equal(20, ids.Count);
        Assert.Equal("7", _tokenizer.Decode([ids[6]]));
    }

    [Fact]
    public void SpecialTokensWrittenInTextBecomeTheirSingleIds()
    {
        var ids = _tokenizer.Encode("<|im_start|>user\nhi<|im_end|>\n<|endoftext|>");
        Assert.Equal([151644, 872, 198, 6023, 151645, 198, 151643], ids);
    }

    [Fact]
    public void ConfigurationLookupsFindQwensTokens()
    {
        Assert.Equal(151645, _tokenizer.EosTokenId);
        Assert.Equal(151643, _tokenizer.PadTokenId);
        Assert.Equal(151644, _tokenizer.TokenToId("<|im_start|>"));
        Assert.Equal(9707, _tokenizer.TokenToId("Hello"));
        Assert.Null(_tokenizer.TokenToId("<|no_such_token|>"));
        Assert.Equal(151_669, _tokenizer.VocabSize); // 151,643 BPE tokens + 26 added (HF len(tokenizer))
        Assert.Equal(26, _tokenizer.AddedTokens.Count);
    }

    [Fact]
    public void SkipSpecialTokensDropsOnlyTokensFlaggedSpecial()
    {
        // In Qwen3's file <think> is an added token but not special: HF keeps it when skipping special tokens.
        var ids = _tokenizer.Encode("<|im_start|>assistant\n<think>\nok</think><|im_end|>");
        Assert.Equal("assistant\n<think>\nok</think>", _tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("<|im_start|>assistant\n<think>\nok</think><|im_end|>", _tokenizer.Decode(ids));
    }

    [Fact]
    public void DecodeOfACharacterCutBetweenIdsGivesTheReplacementCharacter()
    {
        var ids = _tokenizer.Encode("𠀀"); // four UTF-8 bytes over three tokens
        Assert.True(ids.Count > 1);
        Assert.Equal("\uFFFD", _tokenizer.Decode(ids.Take(1)));
    }

    [Fact]
    public void AnAddedTokenFollowedByACombiningMarkStaysWholeAsInHuggingFace()
    {
        // NFC alone would compose '>' + U+0338 into '≯' and break <|im_end|>; HF normalizes around added tokens.
        var ids = _tokenizer.Encode("<|im_end|>\u0338");
        Assert.Equal(151645, ids[0]);
        Assert.Equal("<|im_end|>\u0338", _tokenizer.Decode(ids));
    }
}
