using System.Text.Json;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Typed access to the small parts of tokenizer files, with errors that name the file, the key path
/// ("added_tokens[3].content") and what was found instead.
/// </summary>
internal static class JsonFields
{
    public static InvalidDataException Invalid(string source, string keyPath, string problem) =>
        new($"{source}: '{keyPath}' {problem}");

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    public static string Join(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    public static JsonElement Required(JsonElement obj, string name, string parent, string source)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(source, parent, $"must be an object, found {Describe(obj.ValueKind)}");
        }

        return obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw Invalid(source, Join(parent, name), "is missing");
    }

    public static JsonElement? Optional(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    public static string RequiredString(JsonElement obj, string name, string parent, string source)
    {
        var value = Required(obj, name, parent, source);
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Invalid(source, Join(parent, name), $"must be a string, found {Describe(value.ValueKind)}");
    }

    public static string? OptionalString(JsonElement obj, string name, string parent, string source)
    {
        var value = Optional(obj, name);
        return value is null ? null
            : value.Value.ValueKind == JsonValueKind.String ? value.Value.GetString()
            : throw Invalid(source, Join(parent, name), $"must be a string, found {Describe(value.Value.ValueKind)}");
    }

    public static int RequiredInt(JsonElement obj, string name, string parent, string source)
    {
        var value = Required(obj, name, parent, source);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number)
            ? number
            : throw Invalid(source, Join(parent, name), $"must be an integer, found {Describe(value.ValueKind)}");
    }

    public static bool OptionalBool(JsonElement obj, string name, string parent, string source, bool fallback = false)
    {
        var value = Optional(obj, name);
        return value is null ? fallback
            : value.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.Value.GetBoolean()
            : throw Invalid(source, Join(parent, name), $"must be a boolean, found {Describe(value.Value.ValueKind)}");
    }

    /// <summary>A component's <c>type</c> ("BPE", "NFC", "Split"), required.</summary>
    public static string TypeOf(JsonElement component, string keyPath, string source) =>
        RequiredString(component, "type", keyPath, source);
}
