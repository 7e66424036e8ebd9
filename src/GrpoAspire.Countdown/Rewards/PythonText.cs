namespace GrpoAspire.Countdown.Rewards;

/// <summary>The bits of Python's string semantics that the seed's reward functions rely on.</summary>
internal static class PythonText
{
    /// <summary>Python's <c>str.isspace()</c>, which <c>str.strip()</c> and <c>re</c>'s <c>\s</c> use.</summary>
    public static bool IsWhitespace(char c) => c switch
    {
        >= '\t' and <= '\r' => true,
        >= '\x1c' and <= ' ' => true,
        '\x85' or '\xa0' or '\u1680' or '\u2028' or '\u2029' or '\u202f' or '\u205f' or '\u3000' => true,
        >= '\u2000' and <= '\u200a' => true,
        _ => false,
    };

    /// <summary>Python's <c>str.strip()</c> with no argument.</summary>
    public static ReadOnlySpan<char> Strip(ReadOnlySpan<char> text)
    {
        var start = 0;
        var end = text.Length;
        while (start < end && IsWhitespace(text[start]))
        {
            start++;
        }

        while (end > start && IsWhitespace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }

    /// <summary>Whitespace that Python's tokenizer accepts between tokens: space, tab, form feed.</summary>
    public static bool IsTokenSeparator(char c) => c is ' ' or '\t' or '\f';
}
