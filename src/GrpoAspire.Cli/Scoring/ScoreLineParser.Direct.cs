using System.Buffers;
using System.Buffers.Text;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Unicode;
using GrpoAspire.Countdown;

namespace GrpoAspire.Cli.Scoring;

/// <summary>
/// The direct reading of a line: one pass over its bytes for the shape nearly every line has (a flat object of strings,
/// integers, arrays of integers and plain scalars, nothing to report), where <see cref="System.Text.Json.Utf8JsonReader"/>
/// spent about three quarters of <c>grpo score</c>'s parsing, most of it walking escaped strings byte by byte. It
/// accepts a line only when every part is one it reads exactly as the reader would, and declines anything else (an
/// error to report, a nested value in an ignored property, an escaped key, a surrogate escape, a long number, a
/// completion over the limit, invalid UTF-8), which the reader then reads, with its messages.
/// </summary>
internal sealed partial class ScoreLineParser
{
    /// <summary>
    /// What ends a run of plain string bytes: its closing quote, an escape, or a control character (which JSON strings
    /// may not hold raw: such lines go to the reader). Outside strings the scanner takes only spaces, punctuation,
    /// digits and literals, so every other byte of a line is checked where it is read: one pass over each string.
    /// </summary>
    private static readonly SearchValues<byte> StringStops =
        SearchValues.Create([(byte)'"', (byte)'\\', .. Enumerable.Range(0, 0x20).Select(b => (byte)b)]);

    /// <summary>The line read directly, or false when the reader must read it.</summary>
    internal bool TryReadDirect(ReadOnlySpan<byte> line, out ParsedLine parsed)
    {
        parsed = default;
        var scan = new Scanner(line);
        if (!scan.Skip((byte)'{'))
        {
            return false;
        }

        ReadOnlyMemory<char>? completion = null;
        Span<long> nums = stackalloc long[CountdownTask.MaxNumbers];
        var numsCount = 0;
        (bool Seen, long Value) target = default;
        byte[]? rawId = null;
        if (!scan.Skip((byte)'}'))
        {
            do
            {
                if (!scan.TryKey(out var key) || !scan.Skip((byte)':'))
                {
                    return false;
                }

                // A property seen twice is an error to report: the reader's.
                bool read;
                if (key.SequenceEqual("completion"u8))
                {
                    read = completion is null && TryReadCompletion(ref scan, out completion);
                }
                else if (key.SequenceEqual("nums"u8))
                {
                    read = numsCount == 0 && (numsCount = scan.TryNums(nums)) > 0;
                }
                else if (key.SequenceEqual("target"u8))
                {
                    read = !target.Seen && scan.TryInteger(out target.Value);
                    target.Seen = true;
                }
                else if (key.SequenceEqual("id"u8))
                {
                    read = false;
                    if (rawId is null && scan.TryScalar(out var text))
                    {
                        (rawId, read) = (text.ToArray(), true);
                    }
                }
                else
                {
                    read = scan.TryScalar(out _);
                }

                if (!read)
                {
                    return false;
                }
            }
            while (scan.Skip((byte)','));

            if (!scan.Skip((byte)'}'))
            {
                return false;
            }
        }

        if (!scan.AtEnd || completion is null || numsCount == 0 || !target.Seen)
        {
            return false;
        }

        parsed = new ParsedLine(completion, new CountdownTask(nums[..numsCount], target.Value), rawId, null);
        return true;
    }

    /// <summary>The completion string unescaped into the reused buffer; false for what only the reader reads exactly.</summary>
    private bool TryReadCompletion(ref Scanner scan, out ReadOnlyMemory<char>? completion)
    {
        completion = null;
        // Unescaping never lengthens the text, so a buffer that holds the longest completion allowed, or the rest of the
        // line if shorter, holds every completion that is not too long.
        var buffer = CompletionBuffer(System.Math.Min(scan.Remaining, maxCompletionBytes));
        if (!scan.TryUnescapeString(buffer, out var written, out var rawLength) || rawLength > maxCompletionBytes)
        {
            return false;
        }

        completion = buffer.AsMemory(0, written);
        return true;
    }

    /// <summary>One escape at the start of <paramref name="text"/>: its character and its length in bytes.</summary>
    private static bool TryUnescape(ReadOnlySpan<byte> text, out char value, out int length)
    {
        (value, length) = (default, 2);
        if (text.Length < 2)
        {
            return false;
        }

        switch (text[1])
        {
            case (byte)'"' or (byte)'\\' or (byte)'/':
                value = (char)text[1];
                return true;
            case (byte)'b':
                value = '\b';
                return true;
            case (byte)'f':
                value = '\f';
                return true;
            case (byte)'n':
                value = '\n';
                return true;
            case (byte)'r':
                value = '\r';
                return true;
            case (byte)'t':
                value = '\t';
                return true;
            case (byte)'u' when text.Length >= 6 && Utf8Parser.TryParse(text.Slice(2, 4), out ushort code, out var consumed, 'x') && consumed == 4:
                // A surrogate needs its partner (or is lone): the reader decides what that means.
                (value, length) = ((char)code, 6);
                return !char.IsSurrogate(value);
            default:
                return false;
        }
    }

    /// <summary>A cursor over a line's JSON tokens; every method skips the whitespace before its token.</summary>
    private ref struct Scanner(ReadOnlySpan<byte> line)
    {
        private const int MaxIntegerDigits = 18; // below 10^18: always a long

        private readonly ReadOnlySpan<byte> _line = line;
        private int _at;

        public bool AtEnd
        {
            get
            {
                SkipWhitespace();
                return _at == _line.Length;
            }
        }

        public bool Skip(byte token)
        {
            SkipWhitespace();
            if (_at < _line.Length && _line[_at] == token)
            {
                _at++;
                return true;
            }

            return false;
        }

        /// <summary>A property name without escapes (an escaped one may spell a known name: the reader compares those).</summary>
        public bool TryKey(out ReadOnlySpan<byte> key) => TryString(out key) && key.IndexOf((byte)'\\') < 0;

        /// <summary>How many bytes of the line are left to read.</summary>
        public readonly int Remaining => _line.Length - _at;

        /// <summary>A string's raw bytes between its quotes (escapes left as they are), valid UTF-8 with no raw control character.</summary>
        public bool TryString(out ReadOnlySpan<byte> raw)
        {
            raw = default;
            if (!Skip((byte)'"'))
            {
                return false;
            }

            var start = _at;
            while (NextStop())
            {
                if (_line[_at] == '"')
                {
                    raw = _line[start.._at];
                    _at++;
                    return Utf8.IsValid(raw);
                }

                if (_line[_at] != '\\' || !TryUnescape(_line[_at..], out _, out var length))
                {
                    return false;
                }

                _at += length;
            }

            return false;
        }

        /// <summary>
        /// A string unescaped into <paramref name="destination"/> in one pass; false for what only the reader reads
        /// exactly, and when it does not fit. <paramref name="rawLength"/> counts its bytes between the quotes.
        /// </summary>
        public bool TryUnescapeString(Span<char> destination, out int written, out int rawLength)
        {
            (written, rawLength) = (0, 0);
            if (!Skip((byte)'"'))
            {
                return false;
            }

            var start = _at;
            while (true)
            {
                var plain = WidenPlainAscii(_line[_at..], destination[written..]);
                (_at, written) = (_at + plain, written + plain);
                if (_at == _line.Length)
                {
                    return false;
                }

                var next = _line[_at];
                if (next == '"')
                {
                    rawLength = _at - start;
                    _at++;
                    return true;
                }

                if (next == '\\')
                {
                    if (written == destination.Length || !TryUnescape(_line[_at..], out var escaped, out var length))
                    {
                        return false;
                    }

                    destination[written++] = escaped;
                    _at += length;
                }
                else if (next < 0x80
                    || Rune.DecodeFromUtf8(_line[_at..], out var rune, out var consumed) != OperationStatus.Done
                    || !rune.TryEncodeToUtf16(destination[written..], out var chars))
                {
                    // A raw control character, a byte that is no UTF-8, or no room left (also for plain ASCII).
                    return false;
                }
                else
                {
                    (_at, written) = (_at + consumed, written + chars);
                }
            }
        }

        /// <summary>
        /// Copies the bytes of <paramref name="source"/> that need no decoding (ASCII from space on, but for the quote and
        /// the backslash) as chars, up to the first one that does or the end of either span; returns how many. 32 bytes a
        /// step where the processor has 256-bit vectors: nearly all of a completion is such bytes.
        /// </summary>
        private static int WidenPlainAscii(ReadOnlySpan<byte> source, Span<char> destination)
        {
            var length = System.Math.Min(source.Length, destination.Length);
            var i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                ref var from = ref MemoryMarshal.GetReference(source);
                ref var to = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(destination));
                for (; i + Vector256<byte>.Count <= length; i += Vector256<byte>.Count)
                {
                    var bytes = Vector256.LoadUnsafe(ref from, (nuint)i);
                    // Signed, bytes from 0x80 are negative: one comparison finds control characters and non-ASCII alike.
                    var stops = Vector256.LessThan(bytes.AsSByte(), Vector256.Create((sbyte)0x20)).AsByte()
                        | Vector256.Equals(bytes, Vector256.Create((byte)'"'))
                        | Vector256.Equals(bytes, Vector256.Create((byte)'\\'));
                    // The whole step is widened even when it stops inside: the destination has room for it, and the chars
                    // past the stop are written over or beyond what is returned.
                    var (lower, upper) = Vector256.Widen(bytes);
                    lower.StoreUnsafe(ref to, (nuint)i);
                    upper.StoreUnsafe(ref to, (nuint)(i + Vector256<ushort>.Count));
                    if (stops != Vector256<byte>.Zero)
                    {
                        return i + BitOperations.TrailingZeroCount(stops.ExtractMostSignificantBits());
                    }
                }
            }

            for (; i < length; i++)
            {
                var b = source[i];
                if (b is < 0x20 or >= 0x80 or (byte)'"' or (byte)'\\')
                {
                    break;
                }

                destination[i] = (char)b;
            }

            return i;
        }

        /// <summary>Moves to the next quote, backslash or control character of a string; false at the end of the line.</summary>
        private bool NextStop()
        {
            var stop = _line[_at..].IndexOfAny(StringStops);
            _at += System.Math.Max(stop, 0);
            return stop >= 0;
        }

        /// <summary>An integer with no fraction or exponent and at most 18 digits.</summary>
        public bool TryInteger(out long value)
        {
            SkipWhitespace();
            var start = _at;
            var negative = _at < _line.Length && _line[_at] == '-';
            _at += negative ? 1 : 0;
            var digits = CountDigits();
            value = 0;
            if (digits == 0 || digits > MaxIntegerDigits || (digits > 1 && _line[_at - digits] == '0') || EndsNumberBadly())
            {
                _at = start;
                return false;
            }

            foreach (var digit in _line[(_at - digits).._at])
            {
                value = (value * 10) + (digit - '0');
            }

            value = negative ? -value : value;
            return true;
        }

        /// <summary>
        /// A non-empty array of non-negative integers, as many as <paramref name="found"/> holds at most; returns how
        /// many, 0 when it is not one.
        /// </summary>
        public int TryNums(scoped Span<long> found)
        {
            var count = 0;
            if (!Skip((byte)'['))
            {
                return 0;
            }

            do
            {
                if (count == found.Length || !TryInteger(out var n) || n < 0)
                {
                    return 0;
                }

                found[count++] = n;
            }
            while (Skip((byte)','));

            return Skip((byte)']') ? count : 0;
        }

        /// <summary>A string, number, true, false or null, as its JSON text (objects and arrays are the reader's).</summary>
        public bool TryScalar(out ReadOnlySpan<byte> text)
        {
            text = default;
            SkipWhitespace();
            var start = _at;
            var ok = _at < _line.Length && _line[_at] switch
            {
                (byte)'"' => TryString(out _),
                (byte)'t' => TryWord("true"u8),
                (byte)'f' => TryWord("false"u8),
                (byte)'n' => TryWord("null"u8),
                _ => TryNumber(),
            };
            if (ok)
            {
                text = _line[start.._at];
            }

            return ok;
        }

        private bool TryWord(ReadOnlySpan<byte> word)
        {
            if (!_line[_at..].StartsWith(word))
            {
                return false;
            }

            _at += word.Length;
            return !EndsNumberBadly();
        }

        /// <summary>JSON's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?</summary>
        private bool TryNumber()
        {
            _at += _at < _line.Length && _line[_at] == '-' ? 1 : 0;
            var digits = CountDigits();
            if (digits == 0 || (digits > 1 && _line[_at - digits] == '0'))
            {
                return false;
            }

            if (_at < _line.Length && _line[_at] == '.')
            {
                _at++;
                if (CountDigits() == 0)
                {
                    return false;
                }
            }

            if (_at < _line.Length && _line[_at] is (byte)'e' or (byte)'E')
            {
                _at++;
                _at += _at < _line.Length && _line[_at] is (byte)'+' or (byte)'-' ? 1 : 0;
                if (CountDigits() == 0)
                {
                    return false;
                }
            }

            return !EndsNumberBadly();
        }

        private int CountDigits()
        {
            var start = _at;
            while (_at < _line.Length && char.IsAsciiDigit((char)_line[_at]))
            {
                _at++;
            }

            return _at - start;
        }

        /// <summary>Whether a literal runs on into more letters, digits or a dot ("1.2.3", "truex"): the reader's to report.</summary>
        private readonly bool EndsNumberBadly() =>
            _at < _line.Length && (char.IsAsciiLetterOrDigit((char)_line[_at]) || _line[_at] is (byte)'.' or (byte)'-' or (byte)'+');

        private void SkipWhitespace()
        {
            while (_at < _line.Length && _line[_at] == ' ')
            {
                _at++;
            }
        }
    }
}
