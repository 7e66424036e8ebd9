using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>
/// The replica reads tensor chunks in place when they are encoded as the trainer encodes them, and leaves every other
/// encoding to the generated parser.
/// </summary>
public sealed class TensorChunkReaderTests
{
    [Theory]
    [InlineData(0, 0L, 1)] // index and offset 0 are left out of the encoding
    [InlineData(0, 0L, 1 << 20)]
    [InlineData(289, 123_456_789L, 1000)]
    [InlineData(int.MaxValue, long.MaxValue - 5, 5)]
    public void ChunksEncodedAsTheTrainerDoesAreReadInPlace(int index, long offset, int length)
    {
        var data = Bytes(length);
        var payload = Chunk(index, offset, data).ToByteArray();

        foreach (var sequence in new[] { new ReadOnlySequence<byte>(payload), Segmented(payload, 7) })
        {
            Assert.True(TensorChunkReader.TryRead(sequence, out var readIndex, out var readOffset, out var readData));
            Assert.Equal(index, readIndex);
            Assert.Equal(offset, readOffset);
            Assert.Equal(data, readData.ToArray());
        }
    }

    [Fact]
    public void DataIsAViewOfThePayloadNotACopy()
    {
        var payload = Chunk(3, 4096, Bytes(100)).ToByteArray();

        Assert.True(TensorChunkReader.TryRead(new ReadOnlySequence<byte>(payload), out _, out _, out var data));

        Assert.True(MemoryMarshal.TryGetArray(data.First, out var view));
        Assert.Same(payload, view.Array);
        Assert.Equal(payload.Length - 100, view.Offset);
    }

    public static TheoryData<string, byte[]> OtherEncodings()
    {
        var plain = Chunk(2, 10, Bytes(4));
        var inner = plain.Tensor.ToByteArray();
        return new TheoryData<string, byte[]>
        {
            { "the manifest", new WeightChunk { Manifest = new WeightManifest { Version = 1 } }.ToByteArray() },
            { "an empty message", [] },
            { "a chunk without data", Chunk(2, 10, []).ToByteArray() },
            { "an unknown field in the chunk", Tensor([.. inner, .. Varint((4 << 3) | 0), .. Varint(1)]) },
            { "a field after the chunk", [.. plain.ToByteArray(), .. Varint((3 << 3) | 0), .. Varint(1)] },
            { "data twice", Tensor([.. inner, .. Varint((3 << 3) | 2), .. Varint(1), 9]) },
            { "a negative tensor index", Tensor([.. Varint((1 << 3) | 0), .. Varint(unchecked((ulong)-1L)), .. Varint((3 << 3) | 2), .. Varint(1), 9]) },
            { "the payload cut short", plain.ToByteArray()[..^1] },
            { "a chunk longer than the payload", [.. Varint((2 << 3) | 2), .. Varint((ulong)inner.Length + 1), .. inner] },
            { "data longer than the chunk", Tensor([.. Varint((3 << 3) | 2), .. Varint(5), 1, 2, 3]) },
            { "an 11-byte varint", Tensor([.. Varint((2 << 3) | 0), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) },
        };
    }

    [Theory]
    [MemberData(nameof(OtherEncodings))]
    public void OtherEncodingsAreLeftToTheGeneratedParser(string what, byte[] payload)
    {
        Assert.False(TensorChunkReader.TryRead(new ReadOnlySequence<byte>(payload), out _, out _, out _), what);
    }

    private static WeightChunk Chunk(int index, long offset, byte[] data) =>
        new() { Tensor = new TensorChunk { TensorIndex = index, Offset = offset, Data = ByteString.CopyFrom(data) } };

    /// <summary>A WeightChunk whose tensor field holds <paramref name="inner"/> as given.</summary>
    private static byte[] Tensor(byte[] inner) => [.. Varint((2 << 3) | 2), .. Varint((ulong)inner.Length), .. inner];

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static byte[] Bytes(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 31)).ToArray();

    /// <summary><paramref name="payload"/> in segments of <paramref name="size"/> bytes, as a receive buffer may hold it.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] payload, int size)
    {
        var first = new Segment(payload.AsMemory(0, Math.Min(size, payload.Length)), 0);
        var last = first;
        for (var start = size; start < payload.Length; start += size)
        {
            last = last.Append(payload.AsMemory(start, Math.Min(size, payload.Length - start)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
