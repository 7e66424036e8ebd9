using System.Text;
using System.Text.RegularExpressions;
using GrpoAspire.Model.Tokenization.Unicode;
using Microsoft.ML.Tokenizers;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Hugging Face's <c>NFC</c> normalizer. As in HF, added tokens are cut out of the raw text first and only the
/// text between them is normalized, so "&lt;|im_end|&gt;" followed by U+0338 stays a special token instead of
/// composing '&gt;' + U+0338 into '≯'.
/// </summary>
internal sealed class NfcNormalizer(Regex? addedTokens) : Normalizer
{
    public override string Normalize(string original)
    {
        if (addedTokens is null)
        {
            return UnicodeNfc.Normalize(original);
        }

        var normalized = new StringBuilder(original.Length);
        int start = 0;
        foreach (var match in addedTokens.EnumerateMatches(original))
        {
            normalized.Append(UnicodeNfc.Normalize(original[start..match.Index]));
            normalized.Append(original, match.Index, match.Length);
            start = match.Index + match.Length;
        }

        return start == 0 ? UnicodeNfc.Normalize(original) : normalized.Append(UnicodeNfc.Normalize(original[start..])).ToString();
    }

    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
