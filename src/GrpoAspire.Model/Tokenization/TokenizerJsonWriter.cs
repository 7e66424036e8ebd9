using System.Text.Json;
using System.Text.Json.Nodes;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Writes byte-level BPE tokenizers as Hugging Face <c>tokenizer.json</c> files in Qwen2's layout (NFC, Qwen's
/// pre-tokenizer regex with digits split one per token, ByteLevel decoder), so this project's own tokenizers load
/// in <see cref="QwenTokenizer"/> and in Hugging Face's libraries alike.
/// </summary>
public static class TokenizerJsonWriter
{
    /// <summary>Qwen2's pre-tokenizer pattern (as in its tokenizer.json).</summary>
    public const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen's special tokens, in id order after the vocabulary.</summary>
    public static readonly string[] QwenSpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    /// <summary>GPT-2's byte -> printable character map that byte-level BPE vocabularies are written in.</summary>
    public static IReadOnlyList<char> ByteToUnicode { get; } = BuildByteMap();

    /// <summary>The 256 single-byte tokens, ids 0..255 in byte order.</summary>
    public static IEnumerable<string> ByteTokens => ByteToUnicode.Select(c => c.ToString());

    /// <param name="tokens">vocabulary in id order (byte tokens first, then merged tokens)</param>
    /// <param name="merges">merges in priority order, as ("a", "b") pairs of vocabulary strings</param>
    /// <param name="specialTokens">special tokens appended after the vocabulary</param>
    /// <param name="addedTokens">non-special added tokens (kept when decoding skips special tokens)</param>
    public static void Write(
        string path, IReadOnlyList<string> tokens, IReadOnlyList<(string Left, string Right)> merges,
        IReadOnlyList<string>? specialTokens = null, IReadOnlyList<string>? addedTokens = null)
    {
        var vocab = new JsonObject();
        for (var id = 0; id < tokens.Count; id++)
        {
            vocab[tokens[id]] = id;
        }

        var added = new JsonArray();
        var next = tokens.Count;
        foreach (var (content, special) in (specialTokens ?? QwenSpecialTokens).Select(t => (t, true))
                     .Concat((addedTokens ?? []).Select(t => (t, false))))
        {
            added.Add(new JsonObject
            {
                ["id"] = next++, ["content"] = content, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = special,
            });
        }

        JsonObject ByteLevel() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = QwenPattern },
                        ["behavior"] = "Isolated", ["invert"] = false,
                    },
                    ByteLevel()),
            },
            ["post_processor"] = ByteLevel(),
            ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = string.Empty,
                ["end_of_word_suffix"] = string.Empty, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right)).ToArray()),
            },
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    /// <summary>A byte-level tokenizer without merges: 256 byte tokens plus Qwen's special tokens.</summary>
    public static void WriteByteLevel(string path) => Write(path, ByteTokens.ToArray(), []);

    private static char[] BuildByteMap()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1)
            .Concat(Enumerable.Range('\u00a1', '\u00ac' - '\u00a1' + 1))
            .Concat(Enumerable.Range('\u00ae', '\u00ff' - '\u00ae' + 1))
            .ToHashSet();
        var map = new char[256];
        var extra = 0;
        for (var b = 0; b < 256; b++)
        {
            map[b] = printable.Contains(b) ? (char)b : (char)(256 + extra++);
        }

        return map;
    }
}
