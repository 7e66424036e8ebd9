namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Qwen2/Qwen2.5's added tokens, in the id order of their tokenizer.json (ids 151643-151664 there, right after the
/// BPE vocabulary): the 14 special ones first, then the 8 that are added but not special (kept by
/// <c>skip_special_tokens</c>). A tokenizer trained here appends them, in this order, after its own vocabulary.
/// Qwen3's later additions (<c>&lt;think&gt;</c>, <c>&lt;tool_response&gt;</c>, ...) are not Qwen2's and are left out.
/// </summary>
public static class QwenAddedTokens
{
    /// <summary>Special tokens (tokenizer.json <c>"special": true</c>), id order.</summary>
    public static IReadOnlyList<string> Special { get; } =
    [
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
        "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
        "<|image_pad|>", "<|video_pad|>",
    ];

    /// <summary>Added but not special (tool calls, fill-in-the-middle, repository markers), id order after <see cref="Special"/>.</summary>
    public static IReadOnlyList<string> NonSpecial { get; } =
    [
        "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
        "<|repo_name|>", "<|file_sep|>",
    ];

    /// <summary>Every added token in id order, with its special flag.</summary>
    public static IReadOnlyList<(string Content, bool Special)> All { get; } =
        [.. Special.Select(t => (t, true)), .. NonSpecial.Select(t => (t, false))];
}
