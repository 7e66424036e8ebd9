using System.Buffers;
using System.Text;

namespace GrpoAspire.Cli.Scoring;

/// <summary>
/// Whole lines of UTF-8 input, many to a block in a pooled buffer: blocks are scored in parallel and written back in
/// order. <see cref="LineBlock.FirstLine"/> numbers them (blank lines count).
/// </summary>
/// <param name="TooLongLength">
/// When positive, the block is one line longer than the limit, skipped without being held in memory; this is its length
/// in bytes (without the line break).
/// </param>
internal sealed record LineBlock(byte[] Buffer, int Length, long FirstLine, long TooLongLength)
{
    /// <summary>
    /// The line that starts at <paramref name="offset"/>, without its <c>\n</c> or <c>\r\n</c>; moves the offset past it.
    /// False at the end of the block.
    /// </summary>
    public bool TryReadLine(ref int offset, out ReadOnlySpan<byte> line)
    {
        var rest = Buffer.AsSpan(offset, Length - offset);
        if (rest.IsEmpty)
        {
            line = default;
            return false;
        }

        var lineBreak = rest.IndexOf((byte)'\n');
        line = lineBreak >= 0 ? rest[..lineBreak] : rest;
        offset += lineBreak >= 0 ? lineBreak + 1 : rest.Length;
        if (line.EndsWith((byte)'\r'))
        {
            line = line[..^1];
        }

        return true;
    }

    public void Return()
    {
        if (Buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}

/// <summary>
/// Reads <see cref="LineBlock"/>s of about <paramref name="blockBytes"/> from a stream. Lines end at <c>\n</c> or
/// <c>\r\n</c>; the last needs no line break; a UTF-8 byte order mark at the start is skipped. A line that does not fit
/// in <paramref name="maxLineBytes"/> + 2 bytes (with its <c>\r\n</c>) is counted past, not buffered.
/// </summary>
internal sealed class LineBlockReader(Stream input, int maxLineBytes, int blockBytes = LineBlockReader.DefaultBlockBytes)
{
    public const int DefaultBlockBytes = 1 << 20;

    private byte[] _carry = [];
    private int _carryLength;
    private long _nextLine = 1;
    private bool _endOfInput;
    private bool _started;

    public async ValueTask<LineBlock?> ReadAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(blockBytes, _carryLength * 2));
        _carry.AsSpan(0, _carryLength).CopyTo(buffer);
        var filled = _carryLength;
        _carryLength = 0;
        while (true)
        {
            filled = await FillAsync(buffer, filled, cancellationToken);
            var lastBreak = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n');
            if (lastBreak >= 0 || _endOfInput)
            {
                var length = lastBreak >= 0 ? lastBreak + 1 : filled;
                Carry(buffer.AsSpan(length, filled - length));
                return Block(buffer, length);
            }

            if (filled > maxLineBytes + 1)
            {
                return await SkipLongLineAsync(buffer, filled, cancellationToken);
            }

            // One line fills the buffer but may still be within the limit: a larger buffer.
            var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, maxLineBytes + 2L));
            buffer.AsSpan(0, filled).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = larger;
        }
    }

    private async ValueTask<int> FillAsync(byte[] buffer, int filled, CancellationToken cancellationToken)
    {
        while (filled < buffer.Length && !_endOfInput)
        {
            var read = await input.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            _endOfInput = read == 0;
            filled += read;
            if (!_started && filled >= 3)
            {
                _started = true;
                filled = SkipByteOrderMark(buffer, filled);
            }
        }

        return filled;
    }

    private static int SkipByteOrderMark(byte[] buffer, int filled)
    {
        ReadOnlySpan<byte> start = buffer.AsSpan(0, 3);
        if (start.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || start.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            throw new InvalidDataException("the input starts with a UTF-16 byte order mark; grpo score reads UTF-8");
        }

        if (!start.SequenceEqual(Encoding.UTF8.Preamble))
        {
            return filled;
        }

        buffer.AsSpan(3, filled - 3).CopyTo(buffer);
        return filled - 3;
    }

    private LineBlock? Block(byte[] buffer, int length)
    {
        if (length == 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }

        var block = new LineBlock(buffer, length, _nextLine, 0);
        _nextLine += buffer.AsSpan(0, length).Count((byte)'\n');
        return block;
    }

    private void Carry(ReadOnlySpan<byte> rest)
    {
        if (_carry.Length < rest.Length)
        {
            _carry = new byte[Math.Max(rest.Length, blockBytes)];
        }

        rest.CopyTo(_carry);
        _carryLength = rest.Length;
    }

    private async ValueTask<LineBlock> SkipLongLineAsync(byte[] buffer, int filled, CancellationToken cancellationToken)
    {
        long length = filled;
        var previous = buffer[filled - 1];
        while (!_endOfInput)
        {
            var read = await input.ReadAsync(buffer, cancellationToken);
            _endOfInput = read == 0;
            var lineBreak = buffer.AsSpan(0, read).IndexOf((byte)'\n');
            if (lineBreak >= 0)
            {
                var beforeBreak = lineBreak > 0 ? buffer[lineBreak - 1] : previous;
                length += lineBreak - (beforeBreak == '\r' ? 1 : 0);
                Carry(buffer.AsSpan(lineBreak + 1, read - lineBreak - 1));
                break;
            }

            length += read;
            previous = read > 0 ? buffer[read - 1] : previous;
        }

        ArrayPool<byte>.Shared.Return(buffer);
        return new LineBlock([], 0, _nextLine++, length);
    }
}
