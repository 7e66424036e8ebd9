using System.Text;

namespace GrpoAspire.Tasks.Prompts;

/// <summary>One turn of a conversation.</summary>
public sealed record ChatMessage(string Role, string Content)
{
    public const string SystemRole = "system";
    public const string UserRole = "user";
    public const string AssistantRole = "assistant";
}

/// <summary>
/// Qwen2.5's ChatML chat template (without tools): <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> per
/// turn, Qwen's default system turn when the conversation has none, and transformers'
/// <c>add_generation_prompt</c> / <c>continue_final_message</c>.
/// </summary>
public static class ChatMl
{
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";
    public const string EndOfText = "<|endoftext|>";

    /// <summary>What Qwen2.5's template inserts when the first message is not a system message.</summary>
    public const string QwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

    public static string Render(
        IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false, bool continueFinalMessage = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            throw new ArgumentException("a conversation needs at least one message", nameof(messages));
        }

        if (addGenerationPrompt && continueFinalMessage)
        {
            throw new ArgumentException("add_generation_prompt and continue_final_message exclude each other");
        }

        var text = new StringBuilder();
        if (messages[0].Role != ChatMessage.SystemRole)
        {
            AppendTurn(text, ChatMessage.SystemRole, QwenDefaultSystem);
        }

        foreach (var message in messages)
        {
            if (message.Role is not (ChatMessage.SystemRole or ChatMessage.UserRole or ChatMessage.AssistantRole))
            {
                throw new ArgumentException(
                    $"unknown chat role '{message.Role}'; valid: system, user, assistant", nameof(messages));
            }

            AppendTurn(text, message.Role, message.Content);
        }

        if (addGenerationPrompt)
        {
            text.Append(ImStart).Append(ChatMessage.AssistantRole).Append('\n');
        }

        var rendered = text.ToString();
        if (!continueFinalMessage)
        {
            return rendered;
        }

        // As transformers: cut right after the final message's (stripped) content, so the model continues it.
        var final = messages[^1].Content.Trim();
        var end = rendered.LastIndexOf(final, StringComparison.Ordinal);
        return rendered[..(end + final.Length)];
    }

    private static void AppendTurn(StringBuilder text, string role, string content) =>
        text.Append(ImStart).Append(role).Append('\n').Append(content).Append(ImEnd).Append('\n');
}
