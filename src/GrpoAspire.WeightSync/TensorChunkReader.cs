using System.Buffers;

namespace GrpoAspire.WeightSync;

/// <summary>
/// Reads a <c>WeightChunk</c> that carries a <c>TensorChunk</c> where it lies in the received payload: the tensor index,
/// the offset, and a view of the data, so the bytes are copied once, into the tensor's buffer (the generated parser
/// copies them into a new <c>ByteString</c> first). Only the plain encoding is read this way: one <c>tensor</c> field
/// spanning the payload, holding <c>tensor_index</c>, <c>offset</c> and <c>data</c> at most once each and nothing else.
/// Anything else returns false for the generated parser, which knows every valid encoding and rejects invalid ones.
/// </summary>
internal static class TensorChunkReader
{
    private const ulong TensorTag = (2 << 3) | 2; // WeightChunk.tensor, length-delimited
    private const ulong IndexTag = (1 << 3) | 0; // TensorChunk.tensor_index, varint
    private const ulong OffsetTag = (2 << 3) | 0; // TensorChunk.offset, varint
    private const ulong DataTag = (3 << 3) | 2; // TensorChunk.data, length-delimited

    /// <summary>Longest varint: 10 bytes of 7 bits hold 64.</summary>
    private const int MaxVarintBytes = 10;

    public static bool TryRead(ReadOnlySequence<byte> payload, out int index, out long offset, out ReadOnlySequence<byte> data)
    {
        index = 0;
        offset = 0;
        data = default;
        var reader = new SequenceReader<byte>(payload);
        if (!TryReadVarint(ref reader, out var tag) || tag != TensorTag
            || !TryReadVarint(ref reader, out var length) || length != (ulong)reader.Remaining)
        {
            return false;
        }

        bool hasIndex = false, hasOffset = false, hasData = false;
        while (!reader.End)
        {
            if (!TryReadVarint(ref reader, out tag))
            {
                return false;
            }

            switch (tag)
            {
                case IndexTag when !hasIndex:
                    if (!TryReadVarint(ref reader, out var value) || value > int.MaxValue)
                    {
                        return false;
                    }

                    index = (int)value;
                    hasIndex = true;
                    break;
                case OffsetTag when !hasOffset:
                    if (!TryReadVarint(ref reader, out value))
                    {
                        return false;
                    }

                    offset = unchecked((long)value); // int64 on the wire: a negative offset is a 10-byte varint
                    hasOffset = true;
                    break;
                case DataTag when !hasData:
                    if (!TryReadVarint(ref reader, out length) || length > (ulong)reader.Remaining)
                    {
                        return false;
                    }

                    data = reader.UnreadSequence.Slice(0, (long)length);
                    reader.Advance((long)length);
                    hasData = true;
                    break;
                default:
                    return false;
            }
        }

        return hasData;
    }

    /// <summary>A base-128 varint of at most 64 bits; false when the payload ends inside it or it is longer.</summary>
    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var i = 0; i < MaxVarintBytes; i++)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            if (i == MaxVarintBytes - 1 && b > 1)
            {
                return false; // bits beyond the 64th
            }

            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
