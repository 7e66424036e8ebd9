using Google.Protobuf;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Qwen2;
using static GrpoAspire.WeightSync.Tests.Streams;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>
/// Every way a stream can be wrong is rejected with a message naming the tensor and what was expected, and the
/// replica's model is left exactly as it was.
/// </summary>
public sealed class CorruptStreamTests : IDisposable
{
    private const int ChunkBytes = 1000;
    private const string Embedding = "model.embed_tokens.weight";
    private readonly Qwen2ForCausalLM _source = TinyQwen.Random(seed: 1);
    private readonly Qwen2ForCausalLM _target = TinyQwen.Random(seed: 2);
    private readonly List<WeightChunk> _stream;

    public CorruptStreamTests()
    {
        _stream = Of(WeightSnapshot.Capture(_source, version: 4), ChunkBytes);
        // The premises of the tests below: tensor 0 is the embedding and spans several chunks.
        Assert.Equal(Embedding, _stream[0].Manifest.Tensors[0].Name);
        Assert.True(ChunksOf(_stream, 0).Count > 3);
    }

    private WeightManifest Manifest => _stream[0].Manifest;

    [Fact]
    public void IntactStreamIsAccepted()
    {
        WeightApplier.Apply(_target, Assemble(_stream));

        Assert.Equal(WeightChecksum.Of(_source), WeightChecksum.Of(_target));
    }

    [Fact]
    public void FlippedByteInATensorFailsItsDigestCheck()
    {
        var chunk = _stream[ChunksOf(_stream, 2)[0]].Tensor;
        var data = chunk.Data.ToByteArray();
        data[17] ^= 0x01;
        chunk.Data = ByteString.CopyFrom(data);

        AssertRejected(_target, _stream, $"'{Manifest.Tensors[2].Name}' (tensors[2])", "digest mismatch");
    }

    [Fact]
    public void TruncatedStreamFailsAtCompleteNamingTheUnfinishedTensor()
    {
        var lastOfEmbedding = ChunksOf(_stream, 0)[^1];

        var error = AssertRejected(_target, _stream.Take(lastOfEmbedding), "ended early", $"'{Embedding}' (tensors[0])");

        Assert.Contains($"has {(ChunksOf(_stream, 0).Count - 1) * ChunkBytes} of {96 * 32 * 4} bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StreamMissingItsLastTensorFailsAtComplete()
    {
        var last = Manifest.Tensors.Count - 1;

        AssertRejected(_target, _stream.Take(ChunksOf(_stream, last)[0]), "ended early", $"(tensors[{last}]) has 0 of");
    }

    [Fact]
    public void ChunksOutOfOrderWithinATensorAreRejected()
    {
        var indices = ChunksOf(_stream, 0);
        (_stream[indices[1]], _stream[indices[2]]) = (_stream[indices[2]], _stream[indices[1]]);

        AssertRejected(_target, _stream, $"'{Embedding}' (tensors[0]): chunk at offset {2 * ChunkBytes}, expected offset {ChunkBytes}");
    }

    [Fact]
    public void TensorStartedBeforeThePreviousOneIsCompleteIsRejected()
    {
        var first = ChunksOf(_stream, 1)[0];
        var chunk = _stream[first];
        _stream.RemoveAt(first);
        _stream.Insert(ChunksOf(_stream, 0)[1], chunk);

        AssertRejected(_target, _stream, "(tensors[1]): chunk arrived while", $"'{Embedding}' (tensors[0]) has {ChunkBytes} of", "manifest order");
    }

    [Fact]
    public void ChunkRepeatedAfterItsTensorWasCompleteIsRejected()
    {
        _stream.Insert(ChunksOf(_stream, 1)[0] + 1, _stream[ChunksOf(_stream, 0)[^1]].Clone());

        AssertRejected(_target, _stream, $"'{Embedding}' (tensors[0]): chunk at offset", "after the tensor was complete");
    }

    [Fact]
    public void ChunkOverrunningItsTensorsByteLengthIsRejected()
    {
        var last = _stream[ChunksOf(_stream, 0)[^1]].Tensor;
        last.Data = ByteString.CopyFrom([.. last.Data.ToByteArray(), 0]);

        AssertRejected(_target, _stream, $"'{Embedding}' (tensors[0])", $"overruns its byte_length {96 * 32 * 4}");
    }

    [Fact]
    public void TensorIndexOutOfRangeIsRejected()
    {
        _stream.Insert(1, Chunk(tensorIndex: Manifest.Tensors.Count, offset: 0, [1, 2, 3]));

        AssertRejected(_target, _stream, $"tensor_index {Manifest.Tensors.Count} is out of range", $"lists {Manifest.Tensors.Count} tensors");
    }

    [Fact]
    public void EmptyChunkIsRejected()
    {
        _stream.Insert(1, Chunk(tensorIndex: 0, offset: 0, []));

        AssertRejected(_target, _stream, $"'{Embedding}' (tensors[0]): empty chunk");
    }

    [Fact]
    public void UnknownDtypeInTheManifestIsRejected()
    {
        Manifest.Tensors[3].Dtype = "float64";

        AssertRejected(_target, _stream, "(tensors[3]): dtype 'float64' is not supported; valid: float32, bfloat16, float16");
    }

    [Fact]
    public void DtypeThatDisagreesWithTheByteLengthIsRejected()
    {
        Manifest.Tensors[0].Dtype = "bfloat16";

        AssertRejected(_target, _stream, $"'{Embedding}' (tensors[0]): byte_length {96 * 32 * 4} does not match shape [96, 32] of bfloat16", $"which is {96 * 32 * 2} bytes");
    }

    [Fact]
    public void ShapeThatDisagreesWithTheByteLengthIsRejected()
    {
        Manifest.Tensors[0].Shape[0] = 95;

        AssertRejected(_target, _stream, "does not match shape [95, 32] of float32");
    }

    [Fact]
    public void NegativeDimensionIsRejected()
    {
        Manifest.Tensors[0].Shape[0] = -96;

        AssertRejected(_target, _stream, "shape [-96, 32] has a negative dimension");
    }

    [Fact]
    public void MissingManifestIsRejected()
    {
        AssertRejected(_target, _stream.Skip(1), "tensors[0] at offset 0", "must start with the manifest");
    }

    [Fact]
    public void RepeatedManifestIsRejected()
    {
        _stream.Insert(5, _stream[0].Clone());

        AssertRejected(_target, _stream, "message 6 is a second manifest");
    }

    [Fact]
    public void EmptyStreamIsRejected()
    {
        AssertRejected(_target, [], "ended before its manifest arrived");
    }

    [Fact]
    public void MessageWithNeitherManifestNorChunkIsRejected()
    {
        _stream.Insert(1, new WeightChunk());

        AssertRejected(_target, _stream, "message 2 carries neither a manifest nor a tensor chunk");
    }

    [Fact]
    public void OversizeChunkIsRejected()
    {
        using var source = TinyQwen.WithLargeEmbedding(seed: 1);
        using var target = TinyQwen.WithLargeEmbedding(seed: 2);
        var stream = Of(WeightSnapshot.Capture(source, version: 1));
        var embedding = ChunksOf(stream, 0);
        var first = stream[embedding[0]].Tensor;
        var second = stream[embedding[1]].Tensor;
        // 1 MiB + 1 byte: the first chunk with the second's first byte; the second then starts one byte later.
        first.Data = ByteString.CopyFrom([.. first.Data.ToByteArray(), second.Data[0]]);
        second.Data = ByteString.CopyFrom(second.Data.ToByteArray()[1..]);
        second.Offset++;

        AssertRejected(target, stream, $"'{Embedding}' (tensors[0]): chunk of {(1 << 20) + 1} bytes", "over the limit of 1048576");
    }

    [Fact]
    public void DuplicateTensorNameIsRejected()
    {
        Manifest.Tensors[5].Name = Manifest.Tensors[2].Name;

        AssertRejected(_target, _stream, $"names tensor '{Manifest.Tensors[2].Name}' twice (tensors[2] and tensors[5])");
    }

    [Fact]
    public void ADigestOfTheWrongLengthIsRejected()
    {
        Manifest.Tensors[1].Digest = ByteString.CopyFrom(new byte[20]);

        AssertRejected(_target, _stream, "(tensors[1]): digest has 20 bytes; an XXH128 has 16");
    }

    [Fact]
    public void ManifestTotalThatDisagreesWithItsTensorsIsRejected()
    {
        Manifest.TotalBytes += 1;

        AssertRejected(_target, _stream, "total_bytes", "does not equal the sum of its tensors' byte_length");
    }

    [Fact]
    public void VersionOverTheTotalLimitIsRejectedAtTheManifest()
    {
        var options = new WeightAssemblerOptions { MaxTotalBytes = Manifest.TotalBytes - 1 };

        AssertRejected(_target, _stream.Take(1), options, expectedVersion: 0, $"manifest needs more than the limit of {Manifest.TotalBytes - 1} bytes by tensors[{Manifest.Tensors.Count - 1}]");
    }

    [Fact]
    public void ManifestWithMoreTensorsThanTheLimitIsRejected()
    {
        var options = new WeightAssemblerOptions { MaxTensorCount = 3 };

        AssertRejected(_target, _stream, options, expectedVersion: 0, $"lists {Manifest.Tensors.Count} tensors, more than the limit of 3");
    }

    [Fact]
    public void ChunkOverAConfiguredLimitIsRejected()
    {
        var options = new WeightAssemblerOptions { MaxChunkBytes = ChunkBytes - 1 };

        AssertRejected(_target, _stream, options, expectedVersion: 0, $"chunk of {ChunkBytes} bytes at offset 0 is over the limit of {ChunkBytes - 1}");
    }

    [Fact]
    public void ManifestOfAnotherVersionThanAskedIsRejected()
    {
        AssertRejected(_target, _stream, options: null, expectedVersion: 5, "asked for version 5, the manifest is version 4");
    }

    [Fact]
    public void ManifestVersionZeroIsRejected()
    {
        Manifest.Version = 0;

        AssertRejected(_target, _stream, "manifest version 0 is not valid");
    }

    [Fact]
    public void ManifestWithoutTensorsIsRejected()
    {
        Manifest.Tensors.Clear();
        Manifest.TotalBytes = 0;

        AssertRejected(_target, _stream.Take(1), "lists no tensors");
    }

    [Fact]
    public void AssemblerThatFailedRefusesEveryLaterMessage()
    {
        var assembler = new WeightAssembler();
        assembler.Add(_stream[0]);
        Assert.Throws<WeightStreamException>(() => assembler.Add(_stream[0]));

        var error = Assert.Throws<WeightStreamException>(() => assembler.Add(_stream[1]));
        Assert.Throws<WeightStreamException>(() => assembler.Complete());

        Assert.StartsWith("the stream already failed: message 2 is a second manifest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CompletedAssemblerRefusesToBeReused()
    {
        var assembler = new WeightAssembler();
        foreach (var chunk in _stream)
        {
            assembler.Add(chunk);
        }

        assembler.Complete();

        Assert.Throws<InvalidOperationException>(() => assembler.Add(_stream[0]));
    }

    [Fact]
    public void AssemblerCountsTheBytesReceived()
    {
        var assembler = new WeightAssembler();
        foreach (var chunk in _stream.Take(3))
        {
            assembler.Add(chunk);
        }

        Assert.Equal(Manifest.TotalBytes, assembler.TotalBytes);
        Assert.Equal(2 * ChunkBytes, assembler.BytesReceived);
    }

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }
}
