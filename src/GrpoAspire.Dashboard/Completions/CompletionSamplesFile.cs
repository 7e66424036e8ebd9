using System.Globalization;
using System.Text;
using GrpoAspire.Dashboard.Telemetry;

namespace GrpoAspire.Dashboard.Completions;

/// <summary>
/// Reads the latest samples of a run folder's <c>completion_samples/completion_samples.txt</c>, the file the
/// trainer appends as the seed does: blocks that start with <c>==== step N | task | reward R (verdict) ====</c>.
/// Only the file's last <see cref="MaxBytes"/> are read, so a run of any length costs the same per request,
/// and the file is opened shared because the trainer keeps appending to it.
/// </summary>
public sealed class CompletionSamplesFile : ICompletionSource
{
    public const int DefaultMaxBytes = 256 * 1024;
    public const int DefaultMaxSampleLength = 8_192;
    private const string HeaderMark = "==== ";
    private const string HeaderClose = "====";

    private readonly int _maxSampleLength;

    public CompletionSamplesFile(string path, int maxBytes = DefaultMaxBytes, int maxSampleLength = DefaultMaxSampleLength)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSampleLength, 16);
        Path = path;
        MaxBytes = maxBytes;
        _maxSampleLength = maxSampleLength;
    }

    public string Path { get; }

    public int MaxBytes { get; }

    /// <summary>The samples file of the run folder <paramref name="runDirectory"/> (the trainer's <c>--output</c>).</summary>
    public static CompletionSamplesFile ForRun(string runDirectory) =>
        new(System.IO.Path.Combine(runDirectory, "completion_samples", "completion_samples.txt"));

    public IReadOnlyList<CompletionSample> GetLatest(int max)
    {
        if (max <= 0)
        {
            return [];
        }

        string text;
        try
        {
            text = ReadTail();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        var samples = Parse(text);
        samples.Reverse();
        return samples.Count > max ? samples.GetRange(0, max) : samples;
    }

    private string ReadTail()
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var start = Math.Max(0, stream.Length - MaxBytes);
        stream.Seek(start, SeekOrigin.Begin);
        var buffer = new byte[(int)(stream.Length - start)];
        stream.ReadExactly(buffer);
        var text = Encoding.UTF8.GetString(buffer);
        if (start == 0)
        {
            return text;
        }

        // The read began inside some sample (maybe inside a UTF-8 sequence): begin at the next header.
        var firstHeader = text.IndexOf("\n" + HeaderMark, StringComparison.Ordinal);
        return firstHeader < 0 ? string.Empty : text[(firstHeader + 1)..];
    }

    private List<CompletionSample> Parse(string text)
    {
        var samples = new List<CompletionSample>();
        var position = 0;
        while (position < text.Length)
        {
            var headerStart = FindHeader(text, position);
            if (headerStart < 0)
            {
                break;
            }

            var lineEnd = text.IndexOf('\n', headerStart);
            var headerLine = lineEnd < 0 ? text[headerStart..] : text[headerStart..lineEnd];
            var bodyStart = lineEnd < 0 ? text.Length : lineEnd + 1;
            var next = FindHeader(text, bodyStart);
            var bodyEnd = next < 0 ? text.Length : next;
            var header = headerLine[HeaderMark.Length..].TrimEnd();
            if (header.EndsWith(HeaderClose, StringComparison.Ordinal))
            {
                header = header[..^HeaderClose.Length].TrimEnd();
            }

            var body = text[bodyStart..bodyEnd].TrimEnd('\n', '\r');
            samples.Add(new CompletionSample(StepOf(header), BoundedText.Cut(header, _maxSampleLength), BoundedText.Cut(body, _maxSampleLength)));
            position = bodyEnd;
        }

        return samples;
    }

    /// <summary>The index of the next line that starts with "==== " at or after <paramref name="from"/>, or -1.</summary>
    private static int FindHeader(string text, int from)
    {
        var lineStart = from;
        while (lineStart < text.Length)
        {
            if (string.CompareOrdinal(text, lineStart, HeaderMark, 0, HeaderMark.Length) == 0)
            {
                return lineStart;
            }

            var newline = text.IndexOf('\n', lineStart);
            if (newline < 0)
            {
                break;
            }

            lineStart = newline + 1;
        }

        return -1;
    }

    private static int? StepOf(string header)
    {
        const string prefix = "step ";
        if (!header.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var digits = header.AsSpan(prefix.Length);
        var length = 0;
        while (length < digits.Length && length < 9 && char.IsAsciiDigit(digits[length]))
        {
            length++;
        }

        return length > 0 ? int.Parse(digits[..length], CultureInfo.InvariantCulture) : null;
    }
}
