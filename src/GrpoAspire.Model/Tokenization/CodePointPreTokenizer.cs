using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Runs a <see cref="RegexPreTokenizer"/> as if .NET's regex engine matched code points, as Hugging Face's
/// (Oniguruma) does. .NET matches UTF-16 units, so <c>\p{L}</c> never matches a letter outside the BMP ("𝐀",
/// "𠀀") and <c>[^\p{L}]?</c> takes half an emoji: "😀abc" would split as "😀" + "abc" where HF keeps one
/// pre-token. Text with surrogate pairs is matched with each pair replaced by one BMP stand-in of the same Unicode
/// category, and the splits are mapped back to the original offsets. Text without them goes straight through.
/// </summary>
internal sealed class CodePointPreTokenizer(RegexPreTokenizer inner) : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        return text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0 ? inner.PreTokenize(text) : Projected(text);
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        PreTokenize(text.ToString());

    private IEnumerable<(int Offset, int Length)> Projected(string text)
    {
        var projected = new StringBuilder(text.Length);
        var origin = new List<int>(text.Length + 1); // origin[k]: where projected char k starts in text
        for (int i = 0; i < text.Length;)
        {
            origin.Add(i);
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int used) == System.Buffers.OperationStatus.Done
                && used == 2)
            {
                projected.Append(StandIn(Rune.GetUnicodeCategory(rune)));
            }
            else
            {
                projected.Append(text[i]); // a BMP char, or a lone surrogate left as it is
                used = 1;
            }

            i += used;
        }

        origin.Add(text.Length);
        foreach (var (offset, length) in inner.PreTokenize(projected.ToString()))
        {
            yield return (origin[offset], origin[offset + length] - origin[offset]);
        }
    }

    // One BMP character per category, none of them ASCII or case-equivalent to ASCII, so patterns such as
    // (?i:'s|'t) and \p{L}, \p{N}, \s see the same classes as for the astral character.
    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => 'Ж',
        UnicodeCategory.LowercaseLetter => 'ж',
        UnicodeCategory.TitlecaseLetter => 'ǅ',
        UnicodeCategory.ModifierLetter => 'ʰ',
        UnicodeCategory.OtherLetter => '一',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '٠',
        UnicodeCategory.LetterNumber => 'Ⅰ',
        UnicodeCategory.OtherNumber => '²',
        UnicodeCategory.ConnectorPunctuation => '‿',
        UnicodeCategory.DashPunctuation => '‐',
        UnicodeCategory.OpenPunctuation => '⁅',
        UnicodeCategory.ClosePunctuation => '⁆',
        UnicodeCategory.InitialQuotePunctuation => '«',
        UnicodeCategory.FinalQuotePunctuation => '»',
        UnicodeCategory.OtherPunctuation => '¡',
        UnicodeCategory.MathSymbol => '¬',
        UnicodeCategory.CurrencySymbol => '¢',
        UnicodeCategory.ModifierSymbol => '˂',
        UnicodeCategory.OtherSymbol => '©',
        UnicodeCategory.Format => '\u00AD',
        UnicodeCategory.OtherNotAssigned => '\u0378',
        _ => '\uE000', // private use; no astral separators or controls exist
    };
}
