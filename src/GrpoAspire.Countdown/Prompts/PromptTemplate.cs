using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpoAspire.Countdown.Prompts;

/// <summary>How a template becomes model input.</summary>
public enum PromptKind
{
    /// <summary>System and user turns plus an assistant prefill, rendered with ChatML.</summary>
    Chat,

    /// <summary>Plain text for base models (TinyZero).</summary>
    Text,
}

/// <summary>
/// A Countdown prompt template, kept as data (<c>Prompts/templates.json</c>): placeholders
/// <c>{numbers}</c> (the numbers as a Python list) and <c>{target}</c>.
/// </summary>
public sealed record PromptTemplate
{
    /// <summary>The seed's template (system, user, prefill "Let me solve this step by step.\n&lt;think&gt;").</summary>
    public const string SeedR1 = "seed-r1";

    /// <summary>TinyZero's base-model template.</summary>
    public const string TinyZeroBase = "tinyzero-base";

    /// <summary>A short plain-text prompt for small byte-level models (the embedded countdown-tiny).</summary>
    public const string Compact = "compact";

    public required string Name { get; init; }

    public required PromptKind Kind { get; init; }

    public string Description { get; init; } = string.Empty;

    public string System { get; init; } = string.Empty;

    public string User { get; init; } = string.Empty;

    public string AssistantPrefill { get; init; } = string.Empty;

    public string Text { get; init; } = string.Empty;

    /// <summary>The chat turns for a task (Chat templates only), the prefill last.</summary>
    public IReadOnlyList<ChatMessage> Messages(CountdownTask task)
    {
        if (Kind != PromptKind.Chat)
        {
            throw new InvalidOperationException($"template '{Name}' is plain text and has no chat turns");
        }

        return
        [
            new(ChatMessage.SystemRole, Fill(System, task)),
            new(ChatMessage.UserRole, Fill(User, task)),
            new(ChatMessage.AssistantRole, Fill(AssistantPrefill, task)),
        ];
    }

    /// <summary>The exact prompt text the model continues.</summary>
    public string Render(CountdownTask task) => Kind switch
    {
        PromptKind.Chat => ChatMl.Render(Messages(task), continueFinalMessage: true),
        PromptKind.Text => Fill(Text, task),
        _ => throw new InvalidOperationException($"unknown prompt kind {Kind}; valid: chat, text"),
    };

    private static string Fill(string template, CountdownTask task) =>
        template
            .Replace("{numbers}", task.NumsAsPythonList, StringComparison.Ordinal)
            .Replace("{target}", task.Target.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>The built-in templates, by name.</summary>
    public static IReadOnlyDictionary<string, PromptTemplate> BuiltIn { get; } = LoadBuiltIn();

    /// <summary>A built-in template by name; the error lists the valid names.</summary>
    public static PromptTemplate Get(string name) =>
        BuiltIn.TryGetValue(name, out var template)
            ? template
            : throw new ArgumentException(
                $"unknown prompt template '{name}'; valid: {string.Join(", ", BuiltIn.Keys.Order())}", nameof(name));

    private static Dictionary<string, PromptTemplate> LoadBuiltIn()
    {
        using var stream = typeof(PromptTemplate).Assembly.GetManifestResourceStream("GrpoAspire.Countdown.templates.json")
            ?? throw new InvalidOperationException("the embedded prompt templates are missing from the assembly");
        var entries = JsonSerializer.Deserialize<Dictionary<string, TemplateEntry>>(stream)
            ?? throw new InvalidOperationException("the embedded prompt templates are empty");
        return entries.ToDictionary(
            pair => pair.Key,
            pair => new PromptTemplate
            {
                Name = pair.Key,
                Kind = pair.Value.Kind switch
                {
                    "chat" => PromptKind.Chat,
                    "text" => PromptKind.Text,
                    var kind => throw new InvalidOperationException($"template '{pair.Key}' has unknown kind '{kind}'"),
                },
                Description = pair.Value.Description ?? string.Empty,
                System = pair.Value.System ?? string.Empty,
                User = pair.Value.User ?? string.Empty,
                AssistantPrefill = pair.Value.AssistantPrefill ?? string.Empty,
                Text = pair.Value.Text ?? string.Empty,
            });
    }

    private sealed record TemplateEntry(
        [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("description")] string? Description,
        [property: JsonPropertyName("system")] string? System,
        [property: JsonPropertyName("user")] string? User,
        [property: JsonPropertyName("assistant_prefill")] string? AssistantPrefill,
        [property: JsonPropertyName("text")] string? Text);
}
