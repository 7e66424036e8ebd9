using System.Text.RegularExpressions;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpoAspire.Tasks.Prompts;

/// <summary>How a template becomes model input.</summary>
public enum PromptKind
{
    /// <summary>System and user turns plus an assistant prefill, rendered with ChatML.</summary>
    Chat,

    /// <summary>Plain text for base models (TinyZero).</summary>
    Text,
}

/// <summary>
/// A prompt template, kept as data: the built-in ones in <c>Prompts/templates.json</c>, a user's in a JSON file of the same
/// shape (<see cref="Load"/>). <c>{field}</c> is replaced by the record's field of that name (a string as it is, a list of
/// numbers as Python prints it, <c>[14, 70, 80]</c>); braces around anything else stay as they are.
/// </summary>
public sealed partial record PromptTemplate
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

    /// <summary>The chat turns for a record (Chat templates only), the prefill last.</summary>
    public IReadOnlyList<ChatMessage> Messages(TaskRecord record)
    {
        if (Kind != PromptKind.Chat)
        {
            throw new InvalidOperationException($"template '{Name}' is plain text and has no chat turns");
        }

        return
        [
            new(ChatMessage.SystemRole, Fill(System, record)),
            new(ChatMessage.UserRole, Fill(User, record)),
            new(ChatMessage.AssistantRole, Fill(AssistantPrefill, record)),
        ];
    }

    /// <summary>The exact prompt text the model continues.</summary>
    public string Render(TaskRecord record) => Kind switch
    {
        PromptKind.Chat => ChatMl.Render(Messages(record), continueFinalMessage: true),
        PromptKind.Text => Fill(Text, record),
        _ => throw new InvalidOperationException($"unknown prompt kind {Kind}; valid: chat, text"),
    };

    private static string Fill(string template, TaskRecord record) =>
        Placeholder().Replace(template, match => record.Has(match.Groups[1].Value) ? record.Render(match.Groups[1].Value) : match.Value);

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Placeholder();

    /// <summary>The placeholders of this template, e.g. <c>nums</c> and <c>target</c>.</summary>
    public IEnumerable<string> Placeholders =>
        new[] { System, User, AssistantPrefill, Text }.SelectMany(t => Placeholder().Matches(t)).Select(m => m.Groups[1].Value).Distinct();

    /// <summary>The built-in templates, by name.</summary>
    public static IReadOnlyDictionary<string, PromptTemplate> BuiltIn { get; } = LoadBuiltIn();

    /// <summary>
    /// A built-in template by name, or a template file (<c>.json</c>, one entry of <c>templates.json</c>'s shape) by path,
    /// relative to <paramref name="folder"/> when given (a recipe's folder); the error lists the built-in names.
    /// </summary>
    public static PromptTemplate Get(string name, string? folder = null)
    {
        if (BuiltIn.TryGetValue(name, out var template))
        {
            return template;
        }

        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return Load(folder is null || Path.IsPathRooted(name) ? name : Path.Combine(folder, name));
        }

        throw new ArgumentException(
            $"unknown prompt template '{name}'; valid: {string.Join(", ", BuiltIn.Keys.Order())}, or a .json template file", nameof(name));
    }

    /// <summary>A template file: <c>{"kind": "chat", "system": ..., "user": ..., "assistant_prefill": ...}</c> or <c>{"kind": "text", "text": ...}</c>.</summary>
    public static PromptTemplate Load(string path)
    {
        const int MaxBytes = 64 * 1024;
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new ArgumentException($"prompt template file {path} does not exist");
        }

        if (file.Length > MaxBytes)
        {
            throw new ArgumentException($"prompt template file {path} is {file.Length} bytes; at most {MaxBytes}");
        }

        try
        {
            var entry = JsonSerializer.Deserialize<TemplateEntry>(File.ReadAllText(path))
                ?? throw new ArgumentException($"prompt template file {path} is empty");
            return FromEntry(Path.GetFileNameWithoutExtension(path), entry, path);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"prompt template file {path} is not valid JSON: {e.Message}");
        }
    }

    private static Dictionary<string, PromptTemplate> LoadBuiltIn()
    {
        using var stream = typeof(PromptTemplate).Assembly.GetManifestResourceStream("GrpoAspire.Tasks.templates.json")
            ?? throw new InvalidOperationException("the embedded prompt templates are missing from the assembly");
        var entries = JsonSerializer.Deserialize<Dictionary<string, TemplateEntry>>(stream)
            ?? throw new InvalidOperationException("the embedded prompt templates are empty");
        return entries.ToDictionary(pair => pair.Key, pair => FromEntry(pair.Key, pair.Value, "templates.json"));
    }

    private static PromptTemplate FromEntry(string name, TemplateEntry entry, string source) => new()
    {
        Name = name,
        Kind = entry.Kind switch
        {
            "chat" => PromptKind.Chat,
            "text" => PromptKind.Text,
            var kind => throw new ArgumentException($"{source}: template '{name}' has kind '{kind}'; valid: chat, text"),
        },
        Description = entry.Description ?? string.Empty,
        System = entry.System ?? string.Empty,
        User = entry.User ?? string.Empty,
        AssistantPrefill = entry.AssistantPrefill ?? string.Empty,
        Text = entry.Text ?? string.Empty,
    };

    private sealed record TemplateEntry(
        [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("description")] string? Description,
        [property: JsonPropertyName("system")] string? System,
        [property: JsonPropertyName("user")] string? User,
        [property: JsonPropertyName("assistant_prefill")] string? AssistantPrefill,
        [property: JsonPropertyName("text")] string? Text);
}
