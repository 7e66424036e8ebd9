namespace GrpoAspire.Cli.Scoring;

/// <summary>One input line without its line break; <see cref="Text"/> is valid until the next read.</summary>
internal readonly record struct TextLine(ReadOnlyMemory<char> Text, long TooLongLength)
{
    public bool IsTooLong => TooLongLength > 0;
}

/// <summary>
/// Reads lines (<c>\n</c> or <c>\r\n</c>) into one reused buffer without allocating a string per line.
/// A line longer than the limit is skipped without being held in memory and reported by its length.
/// </summary>
internal sealed class LineReader(TextReader reader, int maxLineChars)
{
    private char[] _buffer = new char[Math.Min(1 << 16, maxLineChars + 2)];
    private int _start;
    private int _scanned;
    private int _end;
    private bool _endOfInput;

    public async ValueTask<TextLine?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_scanned, _end - _scanned).IndexOf('\n');
            if (newline >= 0)
            {
                return Take(_scanned + newline, consumed: 1);
            }

            _scanned = _end;
            if (_endOfInput)
            {
                return _start == _end ? null : Take(_end, consumed: 0);
            }

            // One more than the limit: room for the '\r' of a line that ends with "\r\n".
            if (_end - _start > maxLineChars + 1)
            {
                return await SkipRestOfLineAsync(_end - _start, cancellationToken);
            }

            await FillAsync(cancellationToken);
        }
    }

    private TextLine Take(int end, int consumed)
    {
        var start = _start;
        _start = _scanned = end + consumed;
        var length = end - start;
        if (length > 0 && _buffer[end - 1] == '\r')
        {
            length--;
        }

        return length > maxLineChars
            ? new TextLine(ReadOnlyMemory<char>.Empty, length)
            : new TextLine(_buffer.AsMemory(start, length), 0);
    }

    private async ValueTask<TextLine> SkipRestOfLineAsync(long length, CancellationToken cancellationToken)
    {
        var previous = _buffer[_end - 1];
        _start = _scanned = _end = 0;
        while (true)
        {
            await FillAsync(cancellationToken);
            var newline = _buffer.AsSpan(0, _end).IndexOf('\n');
            if (newline >= 0)
            {
                _start = _scanned = newline + 1;
                var beforeNewline = newline > 0 ? _buffer[newline - 1] : previous;
                return new TextLine(ReadOnlyMemory<char>.Empty, length + newline - (beforeNewline == '\r' ? 1 : 0));
            }

            length += _end;
            if (_endOfInput)
            {
                return new TextLine(ReadOnlyMemory<char>.Empty, length);
            }

            previous = _buffer[_end - 1];
            _end = 0;
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Move the partial line to the front so the buffer only grows for long lines.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _scanned -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = await reader.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        _endOfInput = read == 0;
    }
}
