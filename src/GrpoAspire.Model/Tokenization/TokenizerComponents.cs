using System.Text.Json;
using System.Text.RegularExpressions;
using static GrpoAspire.Model.Tokenization.JsonFields;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Reads the small components of a tokenizer.json (normalizer, pre_tokenizer, decoder, added_tokens) and rejects,
/// by name, what a byte-level BPE tokenizer such as Qwen2's does not use.
/// </summary>
internal static class TokenizerComponents
{
    /// <summary>True for NFC (alone or in a Sequence), false for none.</summary>
    public static bool ReadNormalizer(JsonElement? normalizer, string source)
    {
        if (normalizer is not { } element)
        {
            return false;
        }

        string type = TypeOf(element, "normalizer", source);
        if (type == "NFC")
        {
            return true;
        }

        if (type == "Sequence" && Required(element, "normalizers", "normalizer", source) is { ValueKind: JsonValueKind.Array } steps
            && steps.GetArrayLength() == 1 && TypeOf(steps[0], "normalizer.normalizers[0]", source) == "NFC")
        {
            return true;
        }

        throw new NotSupportedException(
            $"{source}: normalizer type '{type}' is not supported; QwenTokenizer supports NFC or none (Qwen2 uses NFC)");
    }

    /// <summary>The split regex: Sequence[Split(regex, Isolated), ByteLevel(use_regex=false)] or ByteLevel(use_regex=true).</summary>
    public static string ReadPattern(JsonElement? preTokenizer, string source)
    {
        var element = preTokenizer ?? throw Invalid(source, "pre_tokenizer", "is missing (a byte-level BPE tokenizer needs one)");
        string type = TypeOf(element, "pre_tokenizer", source);
        switch (type)
        {
            case "ByteLevel":
                RequireByteLevel(element, "pre_tokenizer", source, useRegex: true);
                return TokenizerDefinition.Gpt2Pattern;
            case "Sequence":
                var steps = Required(element, "pretokenizers", "pre_tokenizer", source);
                if (steps.ValueKind != JsonValueKind.Array || steps.GetArrayLength() != 2)
                {
                    throw new NotSupportedException(
                        $"{source}: pre_tokenizer Sequence must be [Split, ByteLevel] as in Qwen2, found {steps.GetRawText()}");
                }

                string pattern = ReadSplit(steps[0], "pre_tokenizer.pretokenizers[0]", source);
                RequireByteLevel(steps[1], "pre_tokenizer.pretokenizers[1]", source, useRegex: false);
                return pattern;
            default:
                throw new NotSupportedException(
                    $"{source}: pre_tokenizer type '{type}' is not supported; QwenTokenizer supports Sequence[Split, ByteLevel] and ByteLevel");
        }
    }

    public static void RequireByteLevelDecoder(JsonElement? decoder, string source)
    {
        if (decoder is { } element && TypeOf(element, "decoder", source) is var type && type != "ByteLevel")
        {
            throw new NotSupportedException($"{source}: decoder type '{type}' is not supported; QwenTokenizer decodes ByteLevel");
        }
    }

    public static List<AddedToken> ReadAddedTokens(JsonElement? addedTokens, string source)
    {
        var tokens = new List<AddedToken>();
        if (addedTokens is not { } array)
        {
            return tokens;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(source, "added_tokens", $"must be an array, found {Describe(array.ValueKind)}");
        }

        int index = 0;
        foreach (var token in array.EnumerateArray())
        {
            string keyPath = $"added_tokens[{index++}]";
            tokens.Add(ReadAddedToken(token, keyPath, source, RequiredInt(token, "id", keyPath, source)));
        }

        return tokens;
    }

    /// <summary>One added token object (tokenizer.json added_tokens, tokenizer_config.json added_tokens_decoder).</summary>
    public static AddedToken ReadAddedToken(JsonElement token, string keyPath, string source, int id)
    {
        string content = RequiredString(token, "content", keyPath, source);
        foreach (string flag in (string[])["single_word", "lstrip", "rstrip"])
        {
            if (OptionalBool(token, flag, keyPath, source))
            {
                throw new NotSupportedException($"{source}: '{keyPath}' ('{content}') sets {flag}, which QwenTokenizer does not support");
            }
        }

        if (content.Length == 0 || content.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0)
        {
            throw new NotSupportedException($"{source}: '{keyPath}.content' must be non-empty and inside the BMP, found '{content}'");
        }

        return new AddedToken(id, content, OptionalBool(token, "special", keyPath, source));
    }

    private static string ReadSplit(JsonElement split, string keyPath, string source)
    {
        string type = TypeOf(split, keyPath, source);
        if (type != "Split")
        {
            throw new NotSupportedException($"{source}: '{keyPath}' type '{type}' is not supported; expected Split as in Qwen2");
        }

        string behavior = RequiredString(split, "behavior", keyPath, source);
        if (behavior != "Isolated" || OptionalBool(split, "invert", keyPath, source))
        {
            throw new NotSupportedException($"{source}: '{keyPath}' must split with behavior Isolated and invert false, found {behavior}");
        }

        var pattern = Required(split, "pattern", keyPath, source);
        string patternPath = Join(keyPath, "pattern");
        if (OptionalString(pattern, "Regex", patternPath, source) is { } regex)
        {
            return regex;
        }

        return OptionalString(pattern, "String", patternPath, source) is { } literal
            ? Regex.Escape(literal)
            : throw Invalid(source, patternPath, "must be {\"Regex\": ...} or {\"String\": ...}");
    }

    private static void RequireByteLevel(JsonElement step, string keyPath, string source, bool useRegex)
    {
        string type = TypeOf(step, keyPath, source);
        if (type != "ByteLevel")
        {
            throw new NotSupportedException($"{source}: '{keyPath}' type '{type}' is not supported; expected ByteLevel");
        }

        if (OptionalBool(step, "add_prefix_space", keyPath, source))
        {
            throw new NotSupportedException($"{source}: '{keyPath}' sets add_prefix_space, which QwenTokenizer does not support");
        }

        if (OptionalBool(step, "use_regex", keyPath, source, fallback: true) != useRegex)
        {
            throw new NotSupportedException($"{source}: '{keyPath}' must have use_regex {useRegex.ToString().ToLowerInvariant()} here");
        }
    }
}
