using System.Text;
using System.Text.Json.Nodes;
using GrpoAspire.Model.Tokenization;
using GrpoAspire.Model.Tokenization.Unicode;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>A tokenizer trained once on a small mixed corpus and written to a temp folder as tokenizer.json.</summary>
public sealed class TrainedTokenizerFixture : IDisposable
{
    public const int VocabSize = 450; // the corpus below has pairs enough for 463 merged tokens

    private static readonly string[] Corpus =
    [
        "Use [44, 19, 35] once each with + - * / ( ) to make 98.\n<think>",
        "\n(44+19)-35 = 28, too low\n44+(19*35) = 709, too high\n(44-19)+35 = 60, too low\n</think>\n<answer>(35*19)/44</answer>",
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nUsing the numbers [3, 7, 9], make 30.<|im_end|>",
        "Le café déjà vu, naïve façade. Ελληνικά κείμενα. Русский текст. 中文文本，日本語のテキスト。 😀🎉 𝐀𝐁",
    ];

    public TrainedTokenizerFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("trained-tokenizer-").FullName;
        var trainer = new BpeTrainer(new BpeTrainerOptions { VocabSize = VocabSize, MinFrequency = 2 });
        for (var i = 0; i < 20; i++)
        {
            trainer.AddRange(Corpus);
        }

        Bpe = trainer.Train();
        Bpe.WriteTokenizerJson(Path.Combine(Directory, "tokenizer.json"));
        Tokenizer = QwenTokenizer.FromDirectory(Directory);
    }

    public string Directory { get; }

    public TrainedBpe Bpe { get; }

    public QwenTokenizer Tokenizer { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>
/// A tokenizer trained by <see cref="BpeTrainer"/> and written as tokenizer.json: laid out as Qwen2's own file (the
/// fixture), read back by <see cref="QwenTokenizer"/>, lossless on any text.
/// </summary>
[Collection(QwenCollection.Name)]
public sealed class TrainedTokenizerFileTests(QwenFixture fixture, TrainedTokenizerFixture trained) : IClassFixture<TrainedTokenizerFixture>
{
    private const int VocabSize = TrainedTokenizerFixture.VocabSize;

    private readonly QwenFixture _fixture = fixture;
    private readonly string _directory = trained.Directory;
    private readonly TrainedBpe _bpe = trained.Bpe;
    private readonly QwenTokenizer _tokenizer = trained.Tokenizer;

    private JsonNode Written => JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "tokenizer.json")))!;

    [Fact]
    public void TheFileHasQwen2sNormalizerPreTokenizerDecoderAndModelSettings()
    {
        var qwen = JsonNode.Parse(File.ReadAllText(_fixture.TokenizerJsonPath))!;
        var written = Written;
        foreach (var key in (string[])["version", "truncation", "padding", "normalizer", "pre_tokenizer", "post_processor", "decoder"])
        {
            Assert.True(JsonNode.DeepEquals(qwen[key], written[key]), $"'{key}' differs: {written[key]?.ToJsonString()}");
        }

        foreach (var (key, value) in qwen["model"]!.AsObject().Where(p => p.Key is not ("vocab" or "merges")))
        {
            Assert.True(JsonNode.DeepEquals(value, written["model"]![key]), $"'model.{key}' differs");
        }

        Assert.Equal(_bpe.Merges.Count, written["model"]!["merges"]!.AsArray().Count);
        Assert.Equal(_bpe.Tokens.Count, written["model"]!["vocab"]!.AsObject().Count);
    }

    [Fact]
    public void AddedTokensAreQwen2sInItsOrderWithItsFlagsRightAfterTheVocabulary()
    {
        var qwen = JsonNode.Parse(File.ReadAllText(_fixture.TokenizerJsonPath))!["added_tokens"]!.AsArray();
        var written = Written["added_tokens"]!.AsArray();

        Assert.Equal(22, written.Count); // Qwen2.5's; the fixture (Qwen3's file) has four more after them
        for (var i = 0; i < written.Count; i++)
        {
            var expected = qwen[i]!.DeepClone().AsObject();
            expected["id"] = _bpe.Tokens.Count + i;
            Assert.True(JsonNode.DeepEquals(expected, written[i]), $"added_tokens[{i}]: {written[i]!.ToJsonString()}");
        }
    }

    [Fact]
    public void QwenTokenizerReadsTheVocabularyAndTheSpecialTokenIds()
    {
        var first = _bpe.Tokens.Count;
        Assert.Equal(VocabSize, _tokenizer.VocabSize);
        Assert.Equal(first, _tokenizer.PadTokenId);
        Assert.Equal(first + 2, _tokenizer.EosTokenId);
        Assert.Equal(first + 1, _tokenizer.TokenToId("<|im_start|>"));
        Assert.Equal(first + 14, _tokenizer.TokenToId("<tool_call>"));

        var ids = _tokenizer.Encode("<|im_start|>user\nhi<|im_end|><|endoftext|>");
        Assert.Equal(first + 1, ids[0]);
        Assert.Equal([first + 2, first], ids.TakeLast(2));
        Assert.Equal("user\nhi", _tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void EncodingUsesTheLearnedMergesAndStillSplitsDigits()
    {
        var trace = "\n(44+19)-35 = 28, too low";
        var ids = _tokenizer.Encode(trace);

        // "\n" "(" 4 4 "+" 1 9 ")-" 3 5 " =" " " 2 8 "," " too" " low": 17 tokens for 25 bytes.
        Assert.Equal(17, ids.Count);
        Assert.Equal([_tokenizer.TokenToId("Ġtoo")!.Value, _tokenizer.TokenToId("Ġlow")!.Value], ids.TakeLast(2));
        Assert.Equal(12, _tokenizer.Encode("123456789012").Count);
    }

    [Theory]
    [MemberData(nameof(QwenFixture.TextLines), MemberType = typeof(QwenFixture))]
    public void DecodeOfEncodeGivesBackEveryFixtureTextInNfc(int line)
    {
        var text = QwenFixture.Texts[line];
        Assert.Equal(text.Decoded, _tokenizer.Decode(_tokenizer.Encode(text.Text)));
    }

    [Fact]
    public void DecodeOfEncodeGivesBackRandomUnicodeInNfc()
    {
        // Seeded mixes of ASCII, Latin-1, combining marks, Greek, CJK, Arabic digits, emoji and astral letters.
        (int From, int To)[] ranges =
            [(0x20, 0x7E), (0x0A, 0x0D), (0xA0, 0xFF), (0x300, 0x36F), (0x391, 0x3C9), (0x4E00, 0x4E80), (0x660, 0x669), (0x1F600, 0x1F64F), (0x1D400, 0x1D433)];
        var random = new Random(20240611);
        for (var n = 0; n < 300; n++)
        {
            var text = new StringBuilder();
            for (var i = random.Next(0, 40); i > 0; i--)
            {
                var (from, to) = ranges[random.Next(ranges.Length)];
                text.Append(char.ConvertFromUtf32(random.Next(from, to + 1)));
            }

            var original = text.ToString();
            Assert.Equal(UnicodeNfc.Normalize(original), _tokenizer.Decode(_tokenizer.Encode(original)));
        }
    }
}
