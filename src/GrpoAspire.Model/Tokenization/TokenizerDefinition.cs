namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// A token added on top of the BPE vocabulary (tokenizer.json <c>added_tokens</c>): matched whole in the input
/// before any splitting. <paramref name="Special"/> tokens are the ones <c>skipSpecialTokens</c> drops on decode.
/// </summary>
public sealed record AddedToken(int Id, string Content, bool Special);

/// <summary>What a byte-level BPE tokenizer file says, before the tokenizer is built from it.</summary>
internal sealed record TokenizerDefinition
{
    /// <summary>Qwen2's pre-tokenizer regex (transformers' Qwen2Tokenizer PRETOKENIZE_REGEX), for vocab.json + merges.txt.</summary>
    public const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>GPT-2's pattern, used by a ByteLevel pre-tokenizer with <c>use_regex: true</c>.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Where the definition came from, for error messages.</summary>
    public required string Source { get; init; }

    public required IReadOnlyList<KeyValuePair<string, int>> Vocabulary { get; init; }

    /// <summary>Merges as "left right", highest priority first.</summary>
    public required IReadOnlyList<string> Merges { get; init; }

    public required string Pattern { get; init; }

    public required bool NormalizeNfc { get; init; }

    public IReadOnlyList<AddedToken> AddedTokens { get; init; } = [];

    public string? UnknownToken { get; init; }

    public string? ContinuingSubwordPrefix { get; init; }

    public string? EndOfWordSuffix { get; init; }

    public bool FuseUnknownTokens { get; init; }
}
