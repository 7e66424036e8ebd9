using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using GrpoAspire.Countdown;

namespace GrpoAspire.Cli.Scoring;

/// <summary>One input line read: a task to score, or the reason it cannot be scored.</summary>
/// <param name="Completion">The completion, unescaped, in the parser's buffer: valid until its next line.</param>
/// <param name="RawId">The line's <c>"id"</c> value as its JSON text, echoed verbatim; null when absent.</param>
internal readonly record struct ParsedLine(ReadOnlyMemory<char>? Completion, CountdownTask? Task, byte[]? RawId, string? Error);

/// <summary>
/// Reads <c>{"completion": "...", "nums": [..], "target": N, "id": any}</c> from a line's UTF-8 bytes: directly when the
/// line has the plain shape nearly every line has (ScoreLineParser.Direct.cs), else with a <see cref="Utf8JsonReader"/>.
/// Other properties are ignored; every problem becomes a message that names the field, so a bad line can be fixed from
/// the output alone. Invalid UTF-8 is read as U+FFFD, as a text decoder would. The
/// completion is unescaped into one buffer reused from line to line: no string per line.
/// </summary>
internal sealed partial class ScoreLineParser(int maxCompletionBytes)
{
    private char[] _completion = new char[4096];

    public ParsedLine Parse(ReadOnlySpan<byte> line) =>
        TryReadDirect(line, out var parsed) ? parsed : ParseWithReader(line);

    /// <summary>The line read with the <see cref="Utf8JsonReader"/> alone: every line can be, and every error is reported so.</summary>
    internal ParsedLine ParseWithReader(ReadOnlySpan<byte> line)
    {
        if (!Utf8.IsValid(line))
        {
            line = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(line));
        }

        var fields = new Fields();
        try
        {
            ReadObject(line, ref fields);
            return new ParsedLine(fields.Completion, CreateTask(ref fields), fields.RawId, null);
        }
        catch (LineException e)
        {
            return new ParsedLine(null, null, fields.RawId, e.Message);
        }
        catch (JsonException e)
        {
            return new ParsedLine(null, null, fields.RawId, DescribeJsonError(e));
        }
    }

    private enum Property
    {
        Other,
        Completion,
        Nums,
        Target,
        Id,
    }

    private struct Fields
    {
        public ReadOnlyMemory<char>? Completion;
        public long[]? Nums;
        public long? Target;
        public byte[]? RawId;
        public bool HasId;
    }

    private sealed class LineException(string message) : Exception(message);

    private void ReadObject(ReadOnlySpan<byte> bytes, ref Fields fields)
    {
        var reader = new Utf8JsonReader(bytes);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new LineException("a line must be a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // Compared on the UTF-8 bytes: no string per property name.
            var property = reader.ValueTextEquals("completion"u8) ? Property.Completion
                : reader.ValueTextEquals("nums"u8) ? Property.Nums
                : reader.ValueTextEquals("target"u8) ? Property.Target
                : reader.ValueTextEquals("id"u8) ? Property.Id
                : Property.Other;
            reader.Read();
            switch (property)
            {
                case Property.Completion:
                    fields.Completion = fields.Completion is null ? ReadCompletion(ref reader) : throw Duplicate("completion");
                    break;
                case Property.Nums:
                    fields.Nums = fields.Nums is null ? ReadNums(ref reader) : throw Duplicate("nums");
                    break;
                case Property.Target:
                    fields.Target = fields.Target is null
                        ? ReadInteger(ref reader, "\"target\" must be an integer")
                        : throw Duplicate("target");
                    break;
                case Property.Id:
                    fields.RawId = !fields.HasId ? ReadRawValue(ref reader, bytes) : throw Duplicate("id");
                    fields.HasId = true;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        // Anything after the closing brace other than whitespace makes the reader throw.
        reader.Read();
    }

    /// <summary>
    /// The reused completion buffer, grown to hold a JSON string of <paramref name="rawBytes"/> bytes unescaped (never
    /// more UTF-16 code units than it has bytes).
    /// </summary>
    private char[] CompletionBuffer(int rawBytes)
    {
        if (_completion.Length < rawBytes)
        {
            _completion = new char[System.Math.Max(rawBytes, 2 * _completion.Length)];
        }

        return _completion;
    }

    private static LineException Duplicate(string name) => new($"\"{name}\" appears more than once");

    private ReadOnlyMemory<char> ReadCompletion(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new LineException($"\"completion\" must be a string, got {Describe(reader.TokenType)}");
        }

        int length;
        try
        {
            length = reader.CopyString(CompletionBuffer(reader.ValueSpan.Length));
        }
        catch (InvalidOperationException)
        {
            // The reader's one failure on a string it has already accepted: a \uD800-\uDFFF escape without its partner.
            throw new LineException("\"completion\" holds an unpaired surrogate escape (\\uD800-\\uDFFF), which is no text");
        }

        var completion = _completion.AsMemory(0, length);
        // Unescaping never lengthens the UTF-8 text, so only a long raw token needs an exact count.
        if (reader.ValueSpan.Length > maxCompletionBytes
            && Encoding.UTF8.GetByteCount(completion.Span) is var bytes && bytes > maxCompletionBytes)
        {
            throw new LineException(
                $"\"completion\" is {bytes} bytes of UTF-8, over the limit of {maxCompletionBytes} (--max-completion-bytes)");
        }

        return completion;
    }

    private static long[] ReadNums(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new LineException($"\"nums\" must be an array of integers, got {Describe(reader.TokenType)}");
        }

        Span<long> nums = stackalloc long[CountdownTask.MaxNumbers];
        var count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var n = ReadInteger(ref reader, "\"nums\" must hold integers");
            if (n < 0)
            {
                throw new LineException($"\"nums\" must hold non-negative integers, got {n}");
            }

            if (count == CountdownTask.MaxNumbers)
            {
                throw new LineException($"\"nums\" holds more than {CountdownTask.MaxNumbers} numbers");
            }

            nums[count++] = n;
        }

        return count > 0 ? nums[..count].ToArray() : throw new LineException("\"nums\" is empty");
    }

    /// <summary>An integer that fits in 64 bits; <paramref name="rule"/> starts the error message.</summary>
    private static long ReadInteger(ref Utf8JsonReader reader, string rule)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw new LineException($"{rule}, got {Describe(reader.TokenType)}");
        }

        return reader.TryGetInt64(out var value)
            ? value
            : throw new LineException($"{rule} (64-bit), got {Encoding.UTF8.GetString(reader.ValueSpan)}");
    }

    private static byte[] ReadRawValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> bytes)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip(); // to the end of an object or array; nothing for a plain value
        return bytes[start..(int)reader.BytesConsumed].ToArray();
    }

    private static CountdownTask CreateTask(ref Fields fields)
    {
        if (fields.Completion is null || fields.Nums is null || fields.Target is null)
        {
            var missing = new[]
            {
                fields.Completion is null ? "\"completion\"" : null,
                fields.Nums is null ? "\"nums\"" : null,
                fields.Target is null ? "\"target\"" : null,
            }.OfType<string>();
            throw new LineException($"missing {string.Join(", ", missing)}");
        }

        try
        {
            return new CountdownTask(fields.Nums!, fields.Target!.Value);
        }
        catch (ArgumentException e)
        {
            throw new LineException(e.Message);
        }
    }

    /// <summary>The reader's message without its "LineNumber: 0 | ..." tail (a line is one JSON line).</summary>
    private static string DescribeJsonError(JsonException e)
    {
        var message = e.Message;
        var tail = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var reason = tail < 0 ? message : message[..tail];
        return e.BytePositionInLine is { } position
            ? $"invalid JSON at byte {position}: {reason}"
            : $"invalid JSON: {reason}";
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        _ => token.ToString(),
    };
}
