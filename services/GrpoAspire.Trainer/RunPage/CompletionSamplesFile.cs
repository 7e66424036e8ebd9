using System.Globalization;

namespace GrpoAspire.Trainer.RunPage;

/// <summary>One sampled completion: its header line (step, task, reward, verdict) and its text.</summary>
/// <param name="Step">The training step from a header <c>step N | ...</c>; null when the header has none.</param>
internal sealed record CompletionSample(int? Step, string Header, string Text);

/// <summary>
/// Reads the latest samples of one of a run folder's <c>completion_samples/*.txt</c> files, which the trainer appends
/// as the seed does (<c>CompletionSampleWriter</c>): blocks that start with a line
/// <c>==== step N | task | reward R (verdict) ====</c>. Only the file's last <see cref="MaxBytes"/> are read, and each
/// header and text is cut to a bounded length.
/// </summary>
internal sealed class CompletionSamplesFile
{
    public const string Folder = "completion_samples";
    public const string SampledFileName = "completion_samples.txt";
    public const string SuccessFileName = "success_completion_samples.txt";
    public const int DefaultMaxBytes = 256 * 1024;
    public const int DefaultMaxSampleLength = 8_192;
    private const string HeaderMark = "==== ";
    private const string HeaderClose = "====";
    private const char Ellipsis = '…';

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

    /// <summary>The random share of all completions (any reward) of the run folder <paramref name="runDirectory"/>.</summary>
    public static CompletionSamplesFile Sampled(string runDirectory) => new(System.IO.Path.Combine(runDirectory, Folder, SampledFileName));

    /// <summary>The completions that solved their task, of the run folder <paramref name="runDirectory"/>.</summary>
    public static CompletionSamplesFile Successes(string runDirectory) => new(System.IO.Path.Combine(runDirectory, Folder, SuccessFileName));

    /// <summary>At most <paramref name="max"/> samples, newest first; none when the file is missing or unreadable.</summary>
    public IReadOnlyList<CompletionSample> GetLatest(int max)
    {
        if (max <= 0)
        {
            return [];
        }

        var text = FileTail.Read(Path, MaxBytes, out var cut);
        if (text is null)
        {
            return [];
        }

        if (cut)
        {
            // The read began inside some sample (maybe inside a UTF-8 sequence): begin at the next header.
            var firstHeader = text.IndexOf("\n" + HeaderMark, StringComparison.Ordinal);
            text = firstHeader < 0 ? string.Empty : text[(firstHeader + 1)..];
        }

        var samples = Parse(text);
        samples.Reverse();
        return samples.Count > max ? samples.GetRange(0, max) : samples;
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
            samples.Add(new CompletionSample(StepOf(header), Cut(header, _maxSampleLength), Cut(body, _maxSampleLength)));
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

    /// <summary><paramref name="text"/> when it fits in <paramref name="maxLength"/> characters, else its start and "…".</summary>
    internal static string Cut(string text, int maxLength)
    {
        if (text.Length <= maxLength)
        {
            return text;
        }

        var keep = Math.Max(0, maxLength - 1);
        // Never leave half of a surrogate pair.
        if (keep > 0 && char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return string.Concat(text.AsSpan(0, keep), Ellipsis.ToString());
    }
}
