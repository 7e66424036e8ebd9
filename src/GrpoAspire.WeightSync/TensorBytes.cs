using System.Buffers;
using System.IO.Hashing;

namespace GrpoAspire.WeightSync;

/// <summary>
/// One tensor's raw bytes in managed memory, held in segments of at most 1 GiB: a .NET array holds at most about
/// 2 GiB, and real tensors are larger (Qwen2.5-7B's embedding in float32 is 152064 x 3584 x 4 = 2.2 GB, Qwen2.5-72B's
/// in bfloat16 is 2.5 GB). Read-only to everyone but this library, which fills it once: at capture, or chunk by chunk
/// as a stream arrives.
/// </summary>
public sealed class TensorBytes
{
    internal const int DefaultSegmentBytes = 1 << 30;

    private readonly byte[][] _segments;
    private readonly int _segmentBytes;

    /// <param name="length">Bytes in all.</param>
    /// <param name="segmentBytes">Bytes per segment but the last; tests make it small to cross segment boundaries.</param>
    internal TensorBytes(long length, int segmentBytes = DefaultSegmentBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentBytes, 1);
        Length = length;
        _segmentBytes = segmentBytes;
        var count = (int)((length + segmentBytes - 1) / segmentBytes);
        _segments = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var size = (int)Math.Min(segmentBytes, length - ((long)i * segmentBytes));
            // Uninitialized: every byte is written before anyone reads it (capture copies the whole tensor, and
            // the assembler hands nothing out before every byte arrived).
            _segments[i] = GC.AllocateUninitializedArray<byte>(size);
        }
    }

    public long Length { get; }

    /// <summary>The bytes in order, one memory per segment.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Segments => _segments.Select(s => new ReadOnlyMemory<byte>(s));

    /// <summary>Copies <c>destination.Length</c> bytes starting at <paramref name="offset"/>.</summary>
    public void CopyTo(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        while (destination.Length > 0)
        {
            var (segment, start) = Locate(offset);
            var count = Math.Min(destination.Length, _segments[segment].Length - start);
            _segments[segment].AsSpan(start, count).CopyTo(destination);
            destination = destination[count..];
            offset += count;
        }
    }

    /// <summary>The XXH128 of all the bytes (16 bytes, high half first): the digest the weights stream carries.</summary>
    public byte[] Digest()
    {
        var hash = new XxHash128();
        foreach (var segment in _segments)
        {
            hash.Append(segment);
        }

        return hash.GetCurrentHash();
    }

    internal void Write(long offset, ReadOnlySequence<byte> source)
    {
        CheckRange(offset, source.Length);
        foreach (var memory in source)
        {
            Write(offset, memory.Span);
            offset += memory.Length;
        }
    }

    internal void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        while (source.Length > 0)
        {
            var (segment, start) = Locate(offset);
            var count = Math.Min(source.Length, _segments[segment].Length - start);
            source[..count].CopyTo(_segments[segment].AsSpan(start, count));
            source = source[count..];
            offset += count;
        }
    }

    /// <summary>
    /// <paramref name="count"/> bytes from <paramref name="offset"/>: a view when they lie in one segment (the usual
    /// case, so chunks are sent without a copy), else a copy.
    /// </summary>
    internal ReadOnlyMemory<byte> Slice(long offset, int count)
    {
        CheckRange(offset, count);
        var (segment, start) = Locate(offset);
        if (start + count <= _segments[segment].Length)
        {
            return new ReadOnlyMemory<byte>(_segments[segment], start, count);
        }

        var copy = new byte[count];
        CopyTo(offset, copy);
        return copy;
    }

    private (int Segment, int Start) Locate(long offset) =>
        ((int)(offset / _segmentBytes), (int)(offset % _segmentBytes));

    private void CheckRange(long offset, long count)
    {
        if (offset < 0 || count < 0 || offset > Length - count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(offset), $"bytes [{offset}, {offset + count}) are outside a tensor of {Length} bytes");
        }
    }
}
