using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GrpoAspire.Tasks;

/// <summary>
/// One record of a task's dataset: the task's name and the record's fields, a JSON object of at most
/// <see cref="MaxJsonBytes"/> UTF-8 bytes. It is what jobs, rollouts and score requests carry; reward functions read
/// the fields they need and fail with <see cref="TaskRecordException"/> naming a missing or mistyped one.
/// </summary>
public sealed class TaskRecord
{
    public const int MaxJsonBytes = 16 * 1024;
    public const int MaxTaskNameLength = 64;

    private readonly JsonElement _fields;
    private object? _parsed;

    private TaskRecord(string task, string json, JsonElement fields)
    {
        Task = task;
        Json = json;
        _fields = fields;
    }

    /// <summary>The task's name, e.g. <c>countdown</c>: lower-case letters, digits, '-' and '_'.</summary>
    public string Task { get; }

    /// <summary>The fields as compact JSON text, as they travel.</summary>
    public string Json { get; }

    /// <summary>Parses and validates a record; a bad one is a <see cref="TaskRecordException"/> saying why.</summary>
    public static TaskRecord Parse(string task, string json)
    {
        ValidateTaskName(task);
        ArgumentNullException.ThrowIfNull(json);
        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > MaxJsonBytes)
        {
            throw new TaskRecordException($"a {task} record of {bytes} UTF-8 bytes exceeds the limit of {MaxJsonBytes}");
        }

        JsonElement fields;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            fields = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new TaskRecordException($"a {task} record is not valid JSON: {e.Message}");
        }

        if (fields.ValueKind != JsonValueKind.Object)
        {
            throw new TaskRecordException($"a {task} record must be a JSON object, got {fields.ValueKind.ToString().ToLowerInvariant()}");
        }

        return new TaskRecord(task, JsonSerializer.Serialize(fields), fields);
    }

    /// <summary>A record from fields built in code (serialized with System.Text.Json's defaults).</summary>
    public static TaskRecord From<T>(string task, T fields) => Parse(task, JsonSerializer.Serialize(fields));

    public static void ValidateTaskName(string task)
    {
        if (string.IsNullOrEmpty(task) || task.Length > MaxTaskNameLength
            || !task.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
        {
            throw new TaskRecordException(
                $"task name '{task}' is not valid: 1 to {MaxTaskNameLength} lower-case letters, digits, '-' or '_'");
        }
    }

    /// <summary>
    /// The record as its task's own type, parsed once: a task's reward functions and judge share one parse. The first
    /// parser given for a record wins; a task passes the same one every time.
    /// </summary>
    public T As<T>(Func<TaskRecord, T> parse) where T : class
    {
        if (_parsed is T parsed)
        {
            return parsed;
        }

        var value = parse(this);
        _parsed = value;
        return value;
    }

    public IEnumerable<string> FieldNames => _fields.EnumerateObject().Select(p => p.Name);

    public bool Has(string field) => _fields.TryGetProperty(field, out _);

    public JsonElement Get(string field) =>
        _fields.TryGetProperty(field, out var value) ? value : throw new TaskRecordException($"a {Task} record has no field \"{field}\"");

    public long GetInt64(string field)
    {
        var value = Get(field);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n)
            ? n
            : throw new TaskRecordException($"field \"{field}\" of a {Task} record must be an integer, got {value.GetRawText()}");
    }

    public string GetString(string field)
    {
        var value = Get(field);
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new TaskRecordException($"field \"{field}\" of a {Task} record must be a string, got {value.GetRawText()}");
    }

    public IReadOnlyList<long> GetInt64Array(string field, int maxCount)
    {
        var value = Get(field);
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new TaskRecordException($"field \"{field}\" of a {Task} record must be an array of integers, got {value.GetRawText()}");
        }

        var length = value.GetArrayLength();
        if (length > maxCount)
        {
            throw new TaskRecordException($"field \"{field}\" of a {Task} record holds {length} values, at most {maxCount} allowed");
        }

        var result = new long[length];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            result[i++] = item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out var n)
                ? n
                : throw new TaskRecordException($"field \"{field}\" of a {Task} record must hold integers, got {item.GetRawText()}");
        }

        return result;
    }

    /// <summary>A field as prompt text: a string as it is, a list as Python prints one (<c>[14, 70, 80]</c>), else its JSON.</summary>
    public string Render(string field) => Render(Get(field));

    private static string Render(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Array => "[" + string.Join(", ", value.EnumerateArray().Select(item =>
            item.ValueKind == JsonValueKind.String ? $"'{item.GetString()}'" : Render(item))) + "]",
        _ => value.GetRawText(),
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Task} {Json}");
}

/// <summary>A record that is malformed or lacks what its task needs; the message says which field and why.</summary>
public sealed class TaskRecordException(string message) : ArgumentException(message);

public static class ArgumentExceptionReason
{
    /// <summary>The message without the " (Parameter 'x')" that .NET appends to it.</summary>
    public static string Reason(this ArgumentException exception)
    {
        if (exception.ParamName is null)
        {
            return exception.Message;
        }

        var suffix = new ArgumentException(string.Empty, exception.ParamName).Message;
        return exception.Message.EndsWith(suffix, StringComparison.Ordinal)
            ? exception.Message[..^suffix.Length]
            : exception.Message;
    }
}
