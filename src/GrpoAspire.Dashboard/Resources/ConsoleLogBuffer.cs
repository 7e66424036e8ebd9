using GrpoAspire.Dashboard.Telemetry;

namespace GrpoAspire.Dashboard.Resources;

/// <summary>
/// The last lines a resource wrote to stdout and stderr. The host appends every line it captures; the
/// buffer keeps the newest <see cref="Capacity"/> lines, each cut to a bounded length, so a chatty or
/// hostile process cannot grow the host's memory. Thread-safe: output of both streams arrives on pool threads.
/// </summary>
public sealed class ConsoleLogBuffer
{
    public const int DefaultCapacity = 5_000;
    public const int DefaultMaxLineLength = 4_096;

    private readonly Lock _gate = new();
    private readonly RingBuffer<ConsoleLogLine> _lines;
    private readonly int _maxLineLength;
    private readonly TimeProvider _time;
    private long _sequence;

    public ConsoleLogBuffer(int capacity = DefaultCapacity, int maxLineLength = DefaultMaxLineLength, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 16);
        _lines = new RingBuffer<ConsoleLogLine>(capacity);
        _maxLineLength = maxLineLength;
        _time = timeProvider ?? TimeProvider.System;
    }

    public int Capacity => _lines.Capacity;

    /// <summary>Lines appended since creation, kept or not; the sequence number of the newest line.</summary>
    public long TotalLines
    {
        get
        {
            lock (_gate)
            {
                return _sequence;
            }
        }
    }

    /// <summary>Appends one line (without its newline) of stdout, or of stderr when <paramref name="isError"/>.</summary>
    public void Append(string? line, bool isError = false)
    {
        var text = BoundedText.Cut(line, _maxLineLength);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            _sequence++;
            _lines.Add(new ConsoleLogLine(_sequence, now, text, isError), out _);
        }
    }

    /// <summary>The newest <paramref name="count"/> lines, oldest first.</summary>
    public IReadOnlyList<ConsoleLogLine> Tail(int count)
    {
        lock (_gate)
        {
            return _lines.TakeLast(count);
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _lines.Clear();
        }
    }
}

/// <summary>One captured console line; <see cref="Sequence"/> counts from 1 and never repeats within a buffer.</summary>
public sealed record ConsoleLogLine(long Sequence, DateTimeOffset Time, string Text, bool IsError);
