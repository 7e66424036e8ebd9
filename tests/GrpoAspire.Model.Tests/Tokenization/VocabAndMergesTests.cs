using System.Text.Json;
using System.Text.Json.Nodes;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>
/// The vocab.json + merges.txt (+ tokenizer_config.json) path, with those files written from the fixture's
/// tokenizer.json the way transformers saves a slow Qwen2Tokenizer.
/// </summary>
[Collection(QwenCollection.Name)]
public sealed class VocabAndMergesTests : IDisposable
{
    private readonly QwenFixture _fixture;
    private readonly string _directory;

    public VocabAndMergesTests(QwenFixture fixture)
    {
        _fixture = fixture;
        _directory = Directory.CreateTempSubdirectory("qwen-vocab-merges-").FullName;
        WriteSlowTokenizerFiles(fixture.TokenizerJsonPath, _directory);
    }

    [Fact]
    public void VocabAndMergesGiveTheSameIdsAsTokenizerJsonForEveryFixtureText()
    {
        var tokenizer = QwenTokenizer.FromVocabAndMerges(
            Path.Combine(_directory, "vocab.json"), Path.Combine(_directory, "merges.txt"), Path.Combine(_directory, "tokenizer_config.json"));
        var mismatches = QwenFixture.Texts.Where(t => !tokenizer.Encode(t.Text).SequenceEqual(t.Ids)).Select(t => t.Text).ToList();
        Assert.Empty(mismatches);
        Assert.Equal(_fixture.Tokenizer.VocabSize, tokenizer.VocabSize);
    }

    [Fact]
    public void FromDirectoryReadsVocabAndMergesWhenThereIsNoTokenizerJson()
    {
        var tokenizer = QwenTokenizer.FromDirectory(_directory);
        Assert.Equal([151644, 872, 198, 6023, 151645], tokenizer.Encode("<|im_start|>user\nhi<|im_end|>"));
        Assert.Equal(151643, tokenizer.EosTokenId); // tokenizer_config.json below says <|endoftext|>, as Qwen2.5 base
    }

    [Fact]
    public void FromDirectoryPrefersTokenizerJsonAndTakesEosFromTheConfig()
    {
        File.Copy(_fixture.TokenizerJsonPath, Path.Combine(_directory, "tokenizer.json"));
        File.WriteAllText(Path.Combine(_directory, "merges.txt"), "this file is not read when tokenizer.json exists\n");
        var tokenizer = QwenTokenizer.FromDirectory(_directory);
        Assert.Equal(QwenFixture.Texts[5].Ids, tokenizer.Encode(QwenFixture.Texts[5].Text));
        Assert.Equal("<|endoftext|>", tokenizer.EosToken);
    }

    [Fact]
    public void FromDirectoryWithoutTokenizerFilesSaysWhatItLookedFor()
    {
        string empty = Directory.CreateTempSubdirectory("qwen-empty-").FullName;
        try
        {
            var error = Assert.Throws<FileNotFoundException>(() => QwenTokenizer.FromDirectory(empty));
            Assert.Contains("tokenizer.json", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void WriteSlowTokenizerFiles(string tokenizerJsonPath, string directory)
    {
        var root = JsonNode.Parse(File.ReadAllBytes(tokenizerJsonPath))!;
        var model = root["model"]!;
        File.WriteAllText(Path.Combine(directory, "vocab.json"), model["vocab"]!.ToJsonString());

        var merges = model["merges"]!.AsArray().Select(m => m is JsonArray pair ? $"{pair[0]} {pair[1]}" : m!.GetValue<string>());
        File.WriteAllLines(Path.Combine(directory, "merges.txt"), ["#version: 0.2", .. merges]);

        var decoder = new JsonObject();
        foreach (var token in root["added_tokens"]!.AsArray())
        {
            decoder[token!["id"]!.ToString()] = new JsonObject
            {
                ["content"] = token["content"]!.GetValue<string>(),
                ["lstrip"] = false,
                ["normalized"] = false,
                ["rstrip"] = false,
                ["single_word"] = false,
                ["special"] = token["special"]!.GetValue<bool>(),
            };
        }

        var config = new JsonObject
        {
            ["added_tokens_decoder"] = decoder,
            ["eos_token"] = new JsonObject { ["__type"] = "AddedToken", ["content"] = "<|endoftext|>" },
            ["pad_token"] = "<|endoftext|>",
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
