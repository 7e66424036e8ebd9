using System.IO.Hashing;
using System.Security.Cryptography;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>Tensor bytes live in segments (arrays stop at 2 GiB); reads and writes cross them transparently.</summary>
public sealed class TensorBytesTests
{
    [Fact]
    public void WritesAndReadsAcrossSegmentBoundariesGiveBackTheSameBytes()
    {
        var expected = RandomNumberGenerator.GetBytes(10_000);
        var bytes = new TensorBytes(expected.Length, segmentBytes: 1024);

        // Uneven pieces, so most writes straddle a boundary.
        for (var offset = 0; offset < expected.Length; offset += 777)
        {
            bytes.Write(offset, expected.AsSpan(offset, Math.Min(777, expected.Length - offset)));
        }

        var copy = new byte[expected.Length];
        bytes.CopyTo(0, copy);
        Assert.Equal(expected, copy);
        Assert.Equal(10, bytes.Segments.Count());
        Assert.Equal(XxHash128.Hash(expected), bytes.Digest());
        Assert.Equal(expected.AsSpan(1000, 100).ToArray(), bytes.Slice(1000, 100).ToArray());
        Assert.Equal(expected.AsSpan(3000, 50).ToArray(), bytes.Slice(3000, 50).ToArray());
    }

    [Fact]
    public void SliceWithinASegmentIsAViewAndAcrossSegmentsACopy()
    {
        var bytes = new TensorBytes(4096, segmentBytes: 1024);

        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes.Slice(1024, 1024), out var inside));
        Assert.Equal(1024, inside.Array!.Length);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes.Slice(1000, 100), out var across));
        Assert.Equal(100, across.Array!.Length);
    }

    [Fact]
    public void AccessOutsideTheTensorIsRejected()
    {
        var bytes = new TensorBytes(100, segmentBytes: 64);

        Assert.Throws<ArgumentOutOfRangeException>(() => bytes.Write(90, new byte[11]));
        Assert.Throws<ArgumentOutOfRangeException>(() => bytes.CopyTo(-1, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => bytes.Slice(100, 1));
    }

    [Fact]
    public void EmptyTensorHasNoSegmentsAndTheHashOfNothing()
    {
        var bytes = new TensorBytes(0);

        Assert.Empty(bytes.Segments);
        Assert.Equal(XxHash128.Hash([]), bytes.Digest());
    }
}
