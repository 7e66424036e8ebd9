namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>Cuts received text to a bounded length, so one huge attribute cannot fill the store.</summary>
internal static class BoundedText
{
    public const char Ellipsis = '…';

    /// <summary><paramref name="text"/> when it fits in <paramref name="maxLength"/> characters, else its start and "…".</summary>
    public static string Cut(string? text, int maxLength)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (text.Length <= maxLength)
        {
            return text;
        }

        var keep = Math.Max(0, maxLength - 1);
        // Never leave half of a surrogate pair: the JSON writer would replace it with U+FFFD.
        if (keep > 0 && char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return string.Concat(text.AsSpan(0, keep), Ellipsis.ToString());
    }
}
