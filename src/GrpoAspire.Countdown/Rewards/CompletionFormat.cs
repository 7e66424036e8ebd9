namespace GrpoAspire.Countdown.Rewards;

/// <summary>
/// Linear-time matchers equal to the seed's regular expressions, so a hostile completion costs one pass
/// and can never backtrack. Every completion is read as if prefixed with the prefill <c>&lt;think&gt;</c>,
/// as the seed does. Property tests check them against the regexes themselves.
/// </summary>
public static class CompletionFormat
{
    public const string ThinkOpen = "<think>";
    public const string ThinkClose = "</think>";
    public const string AnswerOpen = "<answer>";
    public const string AnswerClose = "</answer>";

    /// <summary>
    /// The seed's format check on <c>"&lt;think&gt;" + completion</c>:
    /// <c>^&lt;think&gt;([^&lt;]*(?:&lt;(?!/?think&gt;)[^&lt;]*)*)&lt;\/think&gt;\n&lt;answer&gt;([\s\S]*?)&lt;\/answer&gt;$</c>.
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<char> completion)
    {
        // Group 1 cannot contain "<think>" or "</think>", so it must end at the first "</think>", with no "<think>"
        // before it: one look at each '<' up to there.
        var close = -1;
        for (var at = completion.IndexOf('<'); at >= 0 && close < 0; at = NextAt(completion, at, '<'))
        {
            if (completion[at..].StartsWith(ThinkClose, StringComparison.Ordinal))
            {
                close = at;
            }
            else if (completion[at..].StartsWith(ThinkOpen, StringComparison.Ordinal))
            {
                return false;
            }
        }

        if (close < 0)
        {
            return false;
        }

        var rest = completion[(close + ThinkClose.Length)..];
        const string answerStart = "\n" + AnswerOpen;
        if (!rest.StartsWith(answerStart, StringComparison.Ordinal))
        {
            return false;
        }

        // Group 2 is anything; '$' without MULTILINE also matches before one final newline.
        var body = rest[answerStart.Length..];
        if (body.Length > 0 && body[^1] == '\n')
        {
            var withoutNewline = body[..^1];
            if (withoutNewline.EndsWith(AnswerClose, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return body.EndsWith(AnswerClose, StringComparison.Ordinal);
    }

    /// <summary>The index of the next <paramref name="value"/> after <paramref name="at"/>, or -1.</summary>
    private static int NextAt(ReadOnlySpan<char> text, int at, char value)
    {
        var next = text[(at + 1)..].IndexOf(value);
        return next < 0 ? -1 : at + 1 + next;
    }

    /// <summary>
    /// The seed's <c>re.search(r"&lt;answer&gt;(.*?)&lt;\/answer&gt;", completion)</c>: the first answer whose
    /// closing tag comes before any newline ('.' does not match a newline). Null when there is none.
    /// </summary>
    public static Range? FindFirstAnswer(ReadOnlySpan<char> completion)
    {
        // Linear: the closing tag found for one start is reused by later starts that come before it, and every
        // character is searched for a newline at most once.
        var from = 0;
        var close = -1;
        while (from < completion.Length)
        {
            var open = completion[from..].IndexOf(AnswerOpen, StringComparison.Ordinal);
            if (open < 0)
            {
                return null;
            }

            var contentStart = from + open + AnswerOpen.Length;
            if (close < contentStart)
            {
                var next = completion[contentStart..].IndexOf(AnswerClose, StringComparison.Ordinal);
                if (next < 0)
                {
                    return null;
                }

                close = contentStart + next;
            }

            var newline = completion[contentStart..close].IndexOf('\n');
            if (newline < 0)
            {
                return new Range(contentStart, close);
            }

            // Every start before that newline would hit it too: resume after it.
            from = contentStart + newline + 1;
        }

        return null;
    }

    /// <summary>
    /// TinyZero's extraction: the last <c>&lt;answer&gt;(.*?)&lt;/answer&gt;</c> on the completion's last line.
    /// </summary>
    public static Range? FindLastAnswerOnLastLine(ReadOnlySpan<char> completion)
    {
        var lineStart = completion.LastIndexOf('\n') + 1;
        var line = completion[lineStart..];
        Range? last = null;
        var from = 0;
        while (true)
        {
            var open = line[from..].IndexOf(AnswerOpen, StringComparison.Ordinal);
            if (open < 0)
            {
                return last;
            }

            var contentStart = from + open + AnswerOpen.Length;
            var close = line[contentStart..].IndexOf(AnswerClose, StringComparison.Ordinal);
            if (close < 0)
            {
                return last;
            }

            last = new Range(lineStart + contentStart, lineStart + contentStart + close);
            from = contentStart + close + AnswerClose.Length;
        }
    }
}
