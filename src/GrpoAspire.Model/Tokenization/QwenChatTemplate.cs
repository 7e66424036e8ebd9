using System.Text;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Qwen2.5-Instruct's chat template (ChatML, without tools) with transformers' <c>add_generation_prompt</c> and
/// <c>continue_final_message</c>, checked against @huggingface/jinja (tests/fixtures/tokenizer). GrpoAspire.Countdown
/// keeps its own small renderer (Prompts/ChatMl.cs): Countdown must not reference this TorchSharp project, and this
/// project must not reference Countdown.
/// </summary>
public static class QwenChatTemplate
{
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    /// <summary>What the template inserts when the first message is not a system message.</summary>
    public const string DefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

    private static readonly string[] Roles = ["system", "user", "assistant"];

    public static string Render(
        IReadOnlyList<(string Role, string Content)> messages, bool addGenerationPrompt = false, bool continueFinalMessage = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            throw new ArgumentException("a conversation needs at least one message", nameof(messages));
        }

        if (addGenerationPrompt && continueFinalMessage)
        {
            throw new ArgumentException("addGenerationPrompt and continueFinalMessage exclude each other (as in transformers)");
        }

        var text = new StringBuilder();
        if (messages[0].Role != "system")
        {
            AppendTurn(text, "system", DefaultSystem);
        }

        foreach (var (role, content) in messages)
        {
            if (!Roles.Contains(role))
            {
                throw new ArgumentException($"unknown chat role '{role}'; valid: {string.Join(", ", Roles)}", nameof(messages));
            }

            AppendTurn(text, role, content ?? throw new ArgumentException($"the content of a '{role}' message is null", nameof(messages)));
        }

        if (addGenerationPrompt)
        {
            text.Append(ImStart).Append("assistant\n");
        }

        var rendered = text.ToString();
        if (!continueFinalMessage)
        {
            return rendered;
        }

        // transformers: rendered[: rendered.rindex(final.strip()) + len(final.strip())], so the model continues the
        // final message instead of seeing it closed by <|im_end|>.
        string final = PythonStrip(messages[^1].Content);
        int end = final.Length == 0 ? rendered.Length : rendered.LastIndexOf(final, StringComparison.Ordinal) + final.Length;
        return rendered[..end];
    }

    private static void AppendTurn(StringBuilder text, string role, string content) =>
        text.Append(ImStart).Append(role).Append('\n').Append(content).Append(ImEnd).Append('\n');

    // Python's str.strip(): char.IsWhiteSpace plus the separators U+001C..U+001F.
    private static string PythonStrip(string value)
    {
        static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';
        int start = 0, end = value.Length;
        while (start < end && IsSpace(value[start]))
        {
            start++;
        }

        while (end > start && IsSpace(value[end - 1]))
        {
            end--;
        }

        return value[start..end];
    }
}
