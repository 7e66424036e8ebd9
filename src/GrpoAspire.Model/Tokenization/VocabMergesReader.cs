using System.Globalization;
using System.Text.Json;
using static GrpoAspire.Model.Tokenization.JsonFields;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Reads the "slow tokenizer" files of Qwen2: vocab.json, merges.txt and tokenizer_config.json (added tokens from
/// <c>added_tokens_decoder</c>, <c>eos_token</c>, <c>pad_token</c>). Normalization (NFC) and the split pattern are
/// those of transformers' Qwen2Tokenizer, which these files do not record.
/// </summary>
internal static class VocabMergesReader
{
    public static TokenizerDefinition Read(string vocabJsonPath, string mergesTxtPath, string? tokenizerConfigPath)
    {
        var vocabulary = new List<KeyValuePair<string, int>>(capacity: 160_000);
        ReadOnlySpan<byte> json = File.ReadAllBytes(vocabJsonPath);
        try
        {
            var reader = new Utf8JsonReader(json.StartsWith("\uFEFF"u8) ? json[3..] : json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid(vocabJsonPath, "(root)", $"must be an object of token -> id, found {Describe(reader.TokenType)}");
            }

            TokenizerJsonReader.ReadVocabulary(ref reader, vocabulary, vocabJsonPath, "(root)");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{vocabJsonPath}: not valid JSON ({e.Message})", e);
        }

        var config = tokenizerConfigPath is null ? null : TokenizerConfig.Read(tokenizerConfigPath);
        return new TokenizerDefinition
        {
            Source = vocabJsonPath,
            Vocabulary = vocabulary,
            Merges = ReadMerges(mergesTxtPath),
            Pattern = TokenizerDefinition.QwenPattern,
            NormalizeNfc = true,
            AddedTokens = config?.AddedTokens ?? [],
        };
    }

    private static List<string> ReadMerges(string path)
    {
        var merges = new List<string>(capacity: 160_000);
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
            {
                continue;
            }

            var parts = line.Split(' ');
            merges.Add(parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0 ? line
                : throw new InvalidDataException($"{path}: line {lineNumber} must be two tokens separated by one space, found \"{line}\""));
        }

        return merges;
    }
}

/// <summary>The parts of a Hugging Face tokenizer_config.json that the tokenizer uses.</summary>
internal sealed record TokenizerConfig(IReadOnlyList<AddedToken> AddedTokens, string? EosToken, string? PadToken)
{
    public static TokenizerConfig Read(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, "(root)", $"must be an object, found {Describe(root.ValueKind)}");
            }

            var added = new List<AddedToken>();
            if (Optional(root, "added_tokens_decoder") is { } decoder)
            {
                if (decoder.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid(path, "added_tokens_decoder", $"must be an object of id -> token, found {Describe(decoder.ValueKind)}");
                }

                foreach (var entry in decoder.EnumerateObject())
                {
                    string keyPath = $"added_tokens_decoder[\"{entry.Name}\"]";
                    added.Add(int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                        ? TokenizerComponents.ReadAddedToken(entry.Value, keyPath, path, id)
                        : throw Invalid(path, keyPath, "must be keyed by an integer id"));
                }
            }

            return new TokenizerConfig(added, TokenName(root, "eos_token", path), TokenName(root, "pad_token", path));
        }
    }

    // "eos_token": "<|im_end|>" or, in older files, {"__type": "AddedToken", "content": "<|im_end|>", ...}.
    private static string? TokenName(JsonElement root, string key, string path) => Optional(root, key) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        { ValueKind: JsonValueKind.Object } value => RequiredString(value, "content", key, path),
        { } value => throw Invalid(path, key, $"must be a string or an object with 'content', found {Describe(value.ValueKind)}"),
    };
}
