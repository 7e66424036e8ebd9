using System.Text.Json.Nodes;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>Small hand-written tokenizer files: both merge encodings, and clear errors for broken or foreign files.</summary>
public sealed class MalformedTokenizerFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("qwen-malformed-").FullName;

    [Fact]
    public void MergesAsStringsAndAsPairsGiveTheSameIds()
    {
        var pairs = Tiny();
        pairs["model"]!["merges"] = new JsonArray(new JsonArray("a", "b"), new JsonArray("Ġ", "ab"));
        var strings = Tiny();
        strings["model"]!["merges"] = new JsonArray("a b", "Ġ ab");

        var fromPairs = QwenTokenizer.FromFile(Write(pairs));
        var fromStrings = QwenTokenizer.FromFile(Write(strings));
        Assert.Equal([2, 5, 4, 3, 0], fromPairs.Encode("ab ab<|x|> a"));
        Assert.Equal(fromPairs.Encode("ab ab<|x|> a"), fromStrings.Encode("ab ab<|x|> a"));
    }

    [Fact]
    public void AMissingModelIsNamedWithTheFilePath()
    {
        var json = Tiny();
        json.AsObject().Remove("model");
        string path = Write(json);
        var error = Assert.Throws<InvalidDataException>(() => QwenTokenizer.FromFile(path));
        Assert.Equal($"{path}: 'model' is missing", error.Message);
    }

    [Theory]
    [InlineData("vocab", "[]", "'model.vocab' must be an object of token -> id, found an array")]
    [InlineData("vocab", "{\"a\": \"zero\"}", "'model.vocab[\"a\"]' must be an integer id, found a string")]
    [InlineData("merges", "{}", "'model.merges' must be an array, found an object")]
    [InlineData("merges", "[\"a b c\"]", "'model.merges[0]' must be two tokens separated by one space")]
    [InlineData("merges", "[[\"a\"]]", "'model.merges[0]' must be a pair of two non-empty tokens")]
    [InlineData("merges", "[\"a zz\"]", "inconsistent BPE model")]
    public void AWrongModelEntryIsNamedWithWhatWasFound(string key, string value, string expected)
    {
        var json = Tiny();
        json["model"]![key] = JsonNode.Parse(value);
        string path = Write(json);
        var error = Assert.Throws<InvalidDataException>(() => QwenTokenizer.FromFile(path));
        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"content\": \"<|y|>\"}", "'added_tokens[1].id' is missing")]
    [InlineData("{\"id\": \"6\", \"content\": \"<|y|>\"}", "'added_tokens[1].id' must be an integer, found a string")]
    [InlineData("{\"id\": 6, \"content\": 7}", "'added_tokens[1].content' must be a string, found a number")]
    public void AWrongAddedTokenIsNamedByItsIndex(string token, string expected)
    {
        var json = Tiny();
        json["added_tokens"]!.AsArray().Add(JsonNode.Parse(token));
        var error = Assert.Throws<InvalidDataException>(() => QwenTokenizer.FromFile(Write(json)));
        Assert.EndsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WordPiece", "{\"a\": 0, \"b\": 1}")]
    [InlineData("Unigram", "[[\"a\", -1.0], [\"b\", -2.0]]")]
    [InlineData("WordLevel", "{\"a\": 0}")]
    public void UnsupportedModelTypesFailNamingTheType(string type, string vocab)
    {
        var json = Tiny();
        json["model"] = new JsonObject { ["type"] = type, ["vocab"] = JsonNode.Parse(vocab) };
        var error = Assert.Throws<NotSupportedException>(() => QwenTokenizer.FromFile(Write(json)));
        Assert.Contains($"model type '{type}' is not supported", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("normalizer", "{\"type\": \"Lowercase\"}", "normalizer type 'Lowercase'")]
    [InlineData("pre_tokenizer", "{\"type\": \"Metaspace\", \"replacement\": \"▁\"}", "pre_tokenizer type 'Metaspace'")]
    [InlineData("decoder", "{\"type\": \"WordPiece\"}", "decoder type 'WordPiece'")]
    public void UnsupportedComponentsFailNamingTheType(string key, string value, string expected)
    {
        var json = Tiny();
        json[key] = JsonNode.Parse(value);
        var error = Assert.Throws<NotSupportedException>(() => QwenTokenizer.FromFile(Write(json)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJsonFailsWithThePath()
    {
        string path = Path.Combine(_directory, "broken.json");
        File.WriteAllText(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,");
        var error = Assert.Throws<InvalidDataException>(() => QwenTokenizer.FromFile(path));
        Assert.StartsWith($"{path}: not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingFileIsReportedAsMissing()
    {
        Assert.Throws<FileNotFoundException>(() => QwenTokenizer.FromFile(Path.Combine(_directory, "absent.json")));
    }

    [Fact]
    public void AMalformedMergesTxtLineIsNamedByItsNumber()
    {
        string vocab = Path.Combine(_directory, "vocab.json"), merges = Path.Combine(_directory, "merges.txt");
        File.WriteAllText(vocab, "{\"a\": 0, \"b\": 1, \"ab\": 2}");
        File.WriteAllLines(merges, ["#version: 0.2", "a b", "a b ab"]);
        var error = Assert.Throws<InvalidDataException>(() => QwenTokenizer.FromVocabAndMerges(vocab, merges));
        Assert.Equal($"{merges}: line 3 must be two tokens separated by one space, found \"a b ab\"", error.Message);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(JsonNode json)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    // A byte-level BPE file shaped like Qwen's: "a", "b", "ab", "Ġ" (space), "Ġab", and the added token <|x|>.
    private static JsonNode Tiny() => JsonNode.Parse("""
        {
          "version": "1.0",
          "added_tokens": [{"id": 4, "content": "<|x|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
          "normalizer": {"type": "NFC"},
          "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
          "post_processor": null,
          "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
          "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                    "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                    "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 5}, "merges": [["a", "b"], ["Ġ", "ab"]]}
        }
        """)!;
}
