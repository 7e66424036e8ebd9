using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Cli.Scoring;

/// <summary>
/// Writes result lines as UTF-8 JSON into <see cref="Output"/>, assembled from pre-encoded keys (a line is written in
/// well under a microsecond). Key order: line, id, one key per reward function (wire name), total, equation_verdict;
/// numbers as Python prints floats (<c>1.0</c>); text escaped only where JSON requires, non-ASCII kept readable.
/// </summary>
internal sealed class ScoreResultWriter(IReadOnlyList<RewardWeight> weights)
{
    private static readonly JavaScriptEncoder Escaping = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private static readonly byte[][] VerdictValues = Enum.GetValues<EquationVerdict>()
        .Select(v => Encoding.UTF8.GetBytes($"\"{v.ToWireName()}\"}}\n")).ToArray();

    private readonly byte[][] _functionKeys = weights.Select(w => Key(w.Function.ToWireName())).ToArray();

    /// <summary>The lines written since the caller last reset it.</summary>
    public ArrayBufferWriter<byte> Output { get; } = new(1 << 20);

    public void WriteScore(long line, byte[]? rawId, RewardBreakdown breakdown)
    {
        StartLine(line, rawId);
        for (var i = 0; i < breakdown.Values.Count; i++)
        {
            Write(_functionKeys[i]);
            WriteDouble(breakdown.Values[i].Value);
        }

        Write(",\"total\":"u8);
        WriteDouble(breakdown.Total);
        Write(",\"equation_verdict\":"u8);
        Write(VerdictValues[(int)breakdown.EquationVerdict]);
    }

    public void WriteError(long line, byte[]? rawId, string message)
    {
        StartLine(line, rawId);
        Write(",\"error\":\""u8);
        Write(JsonEncodedText.Encode(message, Escaping).EncodedUtf8Bytes);
        Write("\"}\n"u8);
    }

    private static byte[] Key(string name) => Encoding.UTF8.GetBytes($",\"{JsonEncodedText.Encode(name, Escaping)}\":");

    private void StartLine(long line, byte[]? rawId)
    {
        Write("{\"line\":"u8);
        var digits = Output.GetSpan(20);
        line.TryFormat(digits, out var length, default, CultureInfo.InvariantCulture);
        Output.Advance(length);
        if (rawId is not null)
        {
            Write(",\"id\":"u8);
            Write(rawId); // the JSON text of a value the reader has validated
        }
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Output.GetSpan(bytes.Length));
        Output.Advance(bytes.Length);
    }

    /// <summary>
    /// Shortest round-trip digits, with ".0" on whole numbers as Python's json.dumps writes floats; null for an infinity
    /// or NaN, which JSON lacks (only reachable with absurd weights).
    /// </summary>
    private void WriteDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            Write("null"u8);
            return;
        }

        var text = Output.GetSpan(40);
        int length;
        if (System.Math.Abs(value) < 1e15 && value == System.Math.Truncate(value) && !double.IsNegative(value))
        {
            // Whole, non-negative and shorter than round-trip's switch to exponents: the usual 0.0, 1.0 and 2.0.
            ((long)value).TryFormat(text, out length, default, CultureInfo.InvariantCulture);
        }
        else
        {
            value.TryFormat(text, out length, "R", CultureInfo.InvariantCulture);
        }

        if (text[..length].IndexOfAny(".E"u8) < 0)
        {
            ".0"u8.CopyTo(text[length..]);
            length += 2;
        }

        Output.Advance(length);
    }
}
