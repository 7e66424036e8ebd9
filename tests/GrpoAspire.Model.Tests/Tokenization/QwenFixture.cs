using System.IO.Compression;
using System.Text.Json;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>
/// One fixture line: a text, the ids Hugging Face tokenizers gave it, and its NFC form where that differs.
/// </summary>
public sealed record FixtureText(string Text, int[] Ids, string? Nfc)
{
    /// <summary>What decoding the ids gives back: Qwen normalizes with NFC.</summary>
    public string Decoded => Nfc ?? Text;
}

/// <summary>One chat template case rendered by @huggingface/jinja.</summary>
public sealed record ChatCase(
    string Name, (string Role, string Content)[] Messages, bool AddGenerationPrompt, bool ContinueFinalMessage, string Rendered, int[] Ids);

/// <summary>
/// The Qwen fixture (tests/fixtures/tokenizer, written by make_fixture.mjs): tokenizer.json decompressed into a
/// temp directory, loaded once for all tokenization tests.
/// </summary>
public sealed class QwenFixture : IDisposable
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "tokenizer");

    private static readonly Lazy<IReadOnlyList<FixtureText>> LazyTexts = new(ReadTexts);

    public QwenFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("qwen-tokenizer-").FullName;
        TokenizerJsonPath = Path.Combine(Directory, "tokenizer.json");
        using (var gz = new GZipStream(File.OpenRead(Path.Combine(Folder, "qwen-tokenizer.json.gz")), CompressionMode.Decompress))
        using (var output = File.Create(TokenizerJsonPath))
        {
            gz.CopyTo(output);
        }

        Tokenizer = QwenTokenizer.FromFile(TokenizerJsonPath);
    }

    public string Directory { get; }

    public string TokenizerJsonPath { get; }

    public QwenTokenizer Tokenizer { get; }

    public static IReadOnlyList<FixtureText> Texts => LazyTexts.Value;

    /// <summary>Line numbers of the fixture texts, for theories (the texts hold characters test names cannot).</summary>
    public static TheoryData<int> TextLines => [.. Enumerable.Range(0, Texts.Count)];

    public static IReadOnlyList<ChatCase> ChatCases()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "qwen_chat_template.json")));
        return [.. document.RootElement.EnumerateArray().Select(c => new ChatCase(
            c.GetProperty("name").GetString()!,
            [.. c.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!))],
            c.GetProperty("addGenerationPrompt").GetBoolean(),
            c.GetProperty("continueFinalMessage").GetBoolean(),
            c.GetProperty("rendered").GetString()!,
            c.GetProperty("ids").Deserialize<int[]>()!))];
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private static IReadOnlyList<FixtureText> ReadTexts()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        return [.. File.ReadLines(Path.Combine(Folder, "qwen_ids.jsonl"))
            .Where(line => line.Length > 0)
            .Select(line => JsonSerializer.Deserialize<FixtureText>(line, options)!)];
    }
}

[CollectionDefinition(Name)]
public sealed class QwenCollection : ICollectionFixture<QwenFixture>
{
    public const string Name = "Qwen tokenizer";
}
