using System.Text.Json;
using static GrpoAspire.Model.Tokenization.JsonFields;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json (7-11 MB for Qwen) with a forward-only <see cref="Utf8JsonReader"/>: the
/// vocabulary and merges stream into lists; only the small components become <see cref="JsonElement"/>s.
/// </summary>
internal static class TokenizerJsonReader
{
    public static TokenizerDefinition Read(string path)
    {
        ReadOnlySpan<byte> json = File.ReadAllBytes(path);
        try
        {
            return Parse(json.StartsWith("\uFEFF"u8) ? json[3..] : json, path);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    private static TokenizerDefinition Parse(ReadOnlySpan<byte> json, string source)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid(source, "(root)", $"must be an object, found {Describe(reader.TokenType)}");
        }

        ModelSection? model = null;
        JsonElement? normalizer = null, preTokenizer = null, decoder = null, addedTokens = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "model":
                    model = ReadModel(ref reader, source);
                    break;
                case "normalizer":
                    normalizer = ParseValue(ref reader);
                    break;
                case "pre_tokenizer":
                    preTokenizer = ParseValue(ref reader);
                    break;
                case "decoder":
                    decoder = ParseValue(ref reader);
                    break;
                case "added_tokens":
                    addedTokens = ParseValue(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (model is null)
        {
            throw Invalid(source, "model", "is missing");
        }

        TokenizerComponents.RequireByteLevelDecoder(decoder, source);
        return new TokenizerDefinition
        {
            Source = source,
            Vocabulary = model.Vocabulary,
            Merges = model.Merges,
            Pattern = TokenizerComponents.ReadPattern(preTokenizer, source),
            NormalizeNfc = TokenizerComponents.ReadNormalizer(normalizer, source),
            AddedTokens = TokenizerComponents.ReadAddedTokens(addedTokens, source),
            UnknownToken = model.UnknownToken,
            ContinuingSubwordPrefix = model.ContinuingSubwordPrefix,
            EndOfWordSuffix = model.EndOfWordSuffix,
            FuseUnknownTokens = model.FuseUnknownTokens,
        };
    }

    private static JsonElement? ParseValue(ref Utf8JsonReader reader)
    {
        var value = JsonElement.ParseValue(ref reader);
        return value.ValueKind == JsonValueKind.Null ? null : value;
    }

    private static ModelSection ReadModel(ref Utf8JsonReader reader, string source)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid(source, "model", $"must be an object, found {Describe(reader.TokenType)}");
        }

        var model = new ModelSection();
        string? type = null;
        string? vocabFound = null, mergesFound = null; // what stood there when it was not the BPE shape
        var options = new Dictionary<string, JsonElement>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "type":
                    type = reader.TokenType == JsonTokenType.String ? reader.GetString()
                        : throw Invalid(source, "model.type", $"must be a string, found {Describe(reader.TokenType)}");
                    break;
                case "vocab" when reader.TokenType == JsonTokenType.StartObject:
                    ReadVocabulary(ref reader, model.Vocabulary, source, "model.vocab");
                    break;
                case "merges" when reader.TokenType == JsonTokenType.StartArray:
                    ReadMerges(ref reader, model.Merges, source);
                    break;
                case "vocab":
                case "merges":
                    (name == "vocab" ? ref vocabFound : ref mergesFound) = Describe(reader.TokenType);
                    reader.Skip();
                    break;
                default:
                    options[name] = JsonElement.ParseValue(ref reader);
                    break;
            }
        }

        // Unigram and WordPiece files also have a "vocab" (an array, an object): the type decides first.
        if ((type ?? "BPE") != "BPE")
        {
            throw new NotSupportedException(
                $"{source}: tokenizer model type '{type}' is not supported; QwenTokenizer reads byte-level BPE (model.type 'BPE') only");
        }

        if (vocabFound is not null || model.Vocabulary.Count == 0)
        {
            throw Invalid(source, "model.vocab", vocabFound is null ? "is missing or empty" : $"must be an object of token -> id, found {vocabFound}");
        }

        if (mergesFound is not null)
        {
            throw Invalid(source, "model.merges", $"must be an array, found {mergesFound}");
        }

        model.ApplyOptions(options, source);
        return model;
    }

    internal static void ReadVocabulary(ref Utf8JsonReader reader, List<KeyValuePair<string, int>> vocabulary, string source, string keyPath)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string token = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int id))
            {
                throw Invalid(source, $"{keyPath}[\"{token}\"]", $"must be an integer id, found {Describe(reader.TokenType)}");
            }

            vocabulary.Add(new(token, id));
        }
    }

    // Merges are "a b" strings (tokenizers < 0.20) or ["a", "b"] pairs (newer); Microsoft.ML.Tokenizers takes "a b".
    private static void ReadMerges(ref Utf8JsonReader reader, List<string> merges, string source)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            string keyPath = $"model.merges[{merges.Count}]";
            if (reader.TokenType == JsonTokenType.String)
            {
                string merge = reader.GetString()!;
                merges.Add(merge.Split(' ').Length == 2 ? merge
                    : throw Invalid(source, keyPath, $"must be two tokens separated by one space, found \"{merge}\""));
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Invalid(source, keyPath, $"must be a string \"a b\" or a pair [\"a\", \"b\"], found {Describe(reader.TokenType)}");
            }

            var pair = new List<string>(2);
            while (reader.Read() && reader.TokenType == JsonTokenType.String)
            {
                pair.Add(reader.GetString()!);
            }

            if (reader.TokenType != JsonTokenType.EndArray || pair.Count != 2 || pair.Any(p => p.Length == 0 || p.Contains(' ')))
            {
                throw Invalid(source, keyPath, "must be a pair of two non-empty tokens without spaces");
            }

            merges.Add($"{pair[0]} {pair[1]}");
        }
    }

    private sealed class ModelSection
    {
        public List<KeyValuePair<string, int>> Vocabulary { get; } = new(capacity: 160_000);

        public List<string> Merges { get; } = new(capacity: 160_000);

        public string? UnknownToken { get; private set; }

        public string? ContinuingSubwordPrefix { get; private set; }

        public string? EndOfWordSuffix { get; private set; }

        public bool FuseUnknownTokens { get; private set; }

        public void ApplyOptions(Dictionary<string, JsonElement> options, string source)
        {
            var model = JsonSerializer.SerializeToElement(options);
            if (Optional(model, "dropout") is { } dropout)
            {
                throw new NotSupportedException($"{source}: 'model.dropout' is {dropout.GetRawText()}; BPE dropout is not supported");
            }

            foreach (string flag in (string[])["byte_fallback", "ignore_merges"])
            {
                if (OptionalBool(model, flag, "model", source))
                {
                    throw new NotSupportedException($"{source}: 'model.{flag}' is true, which QwenTokenizer does not support");
                }
            }

            UnknownToken = OptionalString(model, "unk_token", "model", source);
            ContinuingSubwordPrefix = NullIfEmpty(OptionalString(model, "continuing_subword_prefix", "model", source));
            EndOfWordSuffix = NullIfEmpty(OptionalString(model, "end_of_word_suffix", "model", source));
            FuseUnknownTokens = OptionalBool(model, "fuse_unk", "model", source);
        }

        private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
    }
}
