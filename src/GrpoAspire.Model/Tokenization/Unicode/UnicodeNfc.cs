using System.Globalization;
using System.Text;

namespace GrpoAspire.Model.Tokenization.Unicode;

/// <summary>
/// Unicode Normalization Form C (UAX #15) in managed code. <see cref="string.Normalize()"/> cannot be used: with
/// <c>InvariantGlobalization</c> (set for the whole solution) it returns non-ASCII text unchanged, so "e\u0301"
/// would not become "é" as in Hugging Face's NFC normalizer. Tables: <c>nfc-data.txt</c> (make_nfc_data.py).
/// </summary>
internal static class UnicodeNfc
{
    // Hangul syllables compose and decompose algorithmically (Unicode 3.12).
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(Tables.Load);

    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tables = Data.Value;
        if (!NeedsWork(text, tables))
        {
            return text;
        }

        var codePoints = new List<int>(text.Length);
        for (int i = 0; i < text.Length;)
        {
            i += CodePointAt(text, i, out int cp);
            Decompose(cp, codePoints, tables);
        }

        SortCombiningMarks(codePoints, tables);
        Compose(codePoints, tables);

        var result = new StringBuilder(text.Length);
        foreach (int cp in codePoints)
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
            {
                result.Append((char)cp); // a lone surrogate passes through unchanged
            }
            else
            {
                result.Append(new Rune(cp).ToString());
            }
        }

        return result.ToString();
    }

    // Text whose every code point is a starter that never decomposes and never composes with what precedes it
    // is already in NFC; most text (ASCII, CJK) takes this path.
    private static bool NeedsWork(string text, Tables tables)
    {
        for (int i = 0; i < text.Length;)
        {
            i += CodePointAt(text, i, out int cp);
            if (cp >= 0x300 && tables.Unstable.Contains(cp))
            {
                return true;
            }
        }

        return false;
    }

    private static int CodePointAt(string text, int index, out int codePoint)
    {
        if (char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            codePoint = char.ConvertToUtf32(text[index], text[index + 1]);
            return 2;
        }

        codePoint = text[index];
        return 1;
    }

    private static void Decompose(int cp, List<int> output, Tables tables)
    {
        int s = cp - SBase;
        if (s is >= 0 and < SCount)
        {
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0)
            {
                output.Add(TBase + s % TCount);
            }

            return;
        }

        if (tables.Decompositions.TryGetValue(cp, out var parts))
        {
            foreach (int part in parts)
            {
                Decompose(part, output, tables);
            }

            return;
        }

        output.Add(cp);
    }

    // Canonical ordering: a stable sort of each run of non-starters by combining class.
    private static void SortCombiningMarks(List<int> cps, Tables tables)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int ccc = tables.CombiningClass(cps[i]);
            if (ccc == 0)
            {
                continue;
            }

            for (int j = i; j > 0 && tables.CombiningClass(cps[j - 1]) > ccc; j--)
            {
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
            }
        }
    }

    // Canonical composition: each character composes with the last starter unless blocked by a character in
    // between whose combining class is zero or not lower than its own.
    private static void Compose(List<int> cps, Tables tables)
    {
        int starter = -1;
        int lastClass = 0;
        int written = 0;
        for (int i = 0; i < cps.Count; i++)
        {
            int cp = cps[i];
            int ccc = tables.CombiningClass(cp);
            bool adjacent = written - 1 == starter;
            if (starter >= 0 && (adjacent || lastClass < ccc) && TryCompose(cps[starter], cp, tables, out int composite))
            {
                cps[starter] = composite;
                continue;
            }

            if (ccc == 0)
            {
                starter = written;
            }

            lastClass = ccc;
            cps[written++] = cp;
        }

        cps.RemoveRange(written, cps.Count - written);
    }

    private static bool TryCompose(int first, int second, Tables tables, out int composite)
    {
        int l = first - LBase, v = second - VBase, s = first - SBase, t = second - TBase;
        if (l is >= 0 and < LCount && v is >= 0 and < VCount)
        {
            composite = SBase + (l * VCount + v) * TCount;
            return true;
        }

        if (s is >= 0 and < SCount && s % TCount == 0 && t is > 0 and < TCount)
        {
            composite = first + t;
            return true;
        }

        return tables.Compositions.TryGetValue(((long)first << 32) | (uint)second, out composite);
    }

    private sealed class Tables
    {
        private readonly List<(int First, int Last, int Class)> _classes = [];

        public Dictionary<int, int[]> Decompositions { get; } = [];

        public Dictionary<long, int> Compositions { get; } = [];

        /// <summary>Code points that decompose, have a combining class, or compose with a preceding character.</summary>
        public HashSet<int> Unstable { get; } = [];

        public int CombiningClass(int cp)
        {
            int lo = 0, hi = _classes.Count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                var (first, last, ccc) = _classes[mid];
                if (cp < first)
                {
                    hi = mid - 1;
                }
                else if (cp > last)
                {
                    lo = mid + 1;
                }
                else
                {
                    return ccc;
                }
            }

            return 0;
        }

        public static Tables Load()
        {
            using var stream = typeof(UnicodeNfc).Assembly.GetManifestResourceStream("GrpoAspire.Model.Tokenization.nfc-data.txt")
                ?? throw new InvalidOperationException("embedded resource nfc-data.txt is missing from GrpoAspire.Model");
            using var reader = new StreamReader(stream);
            var tables = new Tables();
            var excluded = new HashSet<int>();
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                var fields = line.Split(' ');
                var values = fields.Skip(1).Select(f => int.Parse(f, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
                switch (fields[0])
                {
                    case "d":
                        tables.Decompositions[values[0]] = values[1..];
                        tables.Unstable.Add(values[0]);
                        break;
                    case "x":
                        excluded.Add(values[0]);
                        break;
                    case "c":
                        // the class is written in decimal
                        tables._classes.Add((values[0], values[1], int.Parse(fields[3], CultureInfo.InvariantCulture)));
                        for (int cp = values[0]; cp <= values[1]; cp++)
                        {
                            tables.Unstable.Add(cp);
                        }

                        break;
                    default:
                        throw new InvalidDataException($"nfc-data.txt: unknown line '{line}'");
                }
            }

            foreach (var (cp, parts) in tables.Decompositions)
            {
                if (parts.Length == 2 && !excluded.Contains(cp))
                {
                    tables.Compositions[((long)parts[0] << 32) | (uint)parts[1]] = cp;
                    tables.Unstable.Add(parts[1]);
                }
            }

            // Hangul vowels and trailing consonants compose with the syllable before them.
            for (int cp = VBase; cp < VBase + VCount; cp++)
            {
                tables.Unstable.Add(cp);
            }

            for (int cp = TBase + 1; cp < TBase + TCount; cp++)
            {
                tables.Unstable.Add(cp);
            }

            return tables;
        }
    }
}
