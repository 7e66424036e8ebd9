using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Cli.Scoring;

/// <summary>
/// Writes result lines with one <see cref="Utf8JsonWriter"/> into a reused buffer and hands the text to the
/// output in 32 KiB blocks. Key order: line, id, one key per reward function (wire name), total,
/// equation_verdict; numbers as Python prints floats (<c>1.0</c>).
/// </summary>
internal sealed class ScoreResultWriter
{
    private const int FlushThreshold = 32 * 1024;

    private static readonly JsonEncodedText LineKey = JsonEncodedText.Encode("line");
    private static readonly JsonEncodedText IdKey = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText TotalKey = JsonEncodedText.Encode("total");
    private static readonly JsonEncodedText VerdictKey = JsonEncodedText.Encode("equation_verdict");
    private static readonly JsonEncodedText ErrorKey = JsonEncodedText.Encode("error");

    private static readonly JsonEncodedText[] VerdictNames = Enum.GetValues<EquationVerdict>()
        .Select(v => JsonEncodedText.Encode(v.ToWireName())).ToArray();

    private readonly TextWriter _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private readonly Utf8JsonWriter _json;
    private readonly JsonEncodedText[] _functionKeys;
    private char[] _chars = new char[FlushThreshold * 2];

    public ScoreResultWriter(TextWriter output, IReadOnlyList<RewardWeight> weights)
    {
        _output = output;
        // Completions and messages may hold any text: escape only what JSON requires, keep non-ASCII readable.
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _functionKeys = weights.Select(w => JsonEncodedText.Encode(w.Function.ToWireName())).ToArray();
    }

    public ValueTask WriteScoreAsync(long line, byte[]? rawId, RewardBreakdown breakdown, CancellationToken cancellationToken)
    {
        StartLine(line, rawId);
        for (var i = 0; i < breakdown.Values.Count; i++)
        {
            WriteDouble(_functionKeys[i], breakdown.Values[i].Value);
        }

        WriteDouble(TotalKey, breakdown.Total);
        _json.WriteString(VerdictKey, VerdictNames[(int)breakdown.EquationVerdict]);
        return EndLineAsync(cancellationToken);
    }

    public ValueTask WriteErrorAsync(long line, byte[]? rawId, string message, CancellationToken cancellationToken)
    {
        StartLine(line, rawId);
        _json.WriteString(ErrorKey, message);
        return EndLineAsync(cancellationToken);
    }

    /// <summary>Writes what is buffered to the output and flushes the output.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await WriteBufferAsync(cancellationToken);
        await _output.FlushAsync(cancellationToken);
    }

    private void StartLine(long line, byte[]? rawId)
    {
        _json.WriteStartObject();
        _json.WriteNumber(LineKey, line);
        if (rawId is not null)
        {
            _json.WritePropertyName(IdKey);
            _json.WriteRawValue(rawId, skipInputValidation: true); // already validated by the reader
        }
    }

    private ValueTask EndLineAsync(CancellationToken cancellationToken)
    {
        _json.WriteEndObject();
        _json.Flush();
        _json.Reset(); // one JSON document per line
        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
        return _buffer.WrittenCount >= FlushThreshold ? WriteBufferAsync(cancellationToken) : ValueTask.CompletedTask;
    }

    private async ValueTask WriteBufferAsync(CancellationToken cancellationToken)
    {
        var needed = Encoding.UTF8.GetMaxCharCount(_buffer.WrittenCount);
        if (_chars.Length < needed)
        {
            _chars = new char[needed];
        }

        var count = Encoding.UTF8.GetChars(_buffer.WrittenSpan, _chars);
        _buffer.ResetWrittenCount();
        await _output.WriteAsync(_chars.AsMemory(0, count), cancellationToken);
    }

    /// <summary>Shortest round-trip digits, with ".0" on whole numbers as Python's json.dumps writes floats.</summary>
    private void WriteDouble(JsonEncodedText key, double value)
    {
        _json.WritePropertyName(key);
        if (!double.IsFinite(value))
        {
            _json.WriteNullValue(); // JSON has no infinity (only reachable with absurd weights)
            return;
        }

        Span<byte> text = stackalloc byte[40];
        value.TryFormat(text, out var length, "R", CultureInfo.InvariantCulture);
        if (text[..length].IndexOfAny(".E"u8) < 0)
        {
            ".0"u8.CopyTo(text[length..]);
            length += 2;
        }

        _json.WriteRawValue(text[..length], skipInputValidation: true);
    }
}
