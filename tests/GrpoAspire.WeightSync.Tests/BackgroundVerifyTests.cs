using Google.Protobuf;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Qwen2;
using static GrpoAspire.WeightSync.Tests.Streams;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>
/// Large tensors are hashed on the thread pool while the stream goes on; a corrupted one is still rejected, with the
/// same message, and the replica's model is left as it was.
/// </summary>
public sealed class BackgroundVerifyTests : IDisposable
{
    private const string Embedding = "model.embed_tokens.weight";
    private readonly Qwen2ForCausalLM _source = TinyQwen.WithLargeEmbedding(seed: 1);
    private readonly Qwen2ForCausalLM _target = TinyQwen.WithLargeEmbedding(seed: 2);
    private readonly List<WeightChunk> _stream;

    public BackgroundVerifyTests()
    {
        _stream = Of(WeightSnapshot.Capture(_source, version: 1));
        // The premise: the embedding (tensor 0) is verified in the background, and tensors after it are not.
        Assert.Equal(Embedding, _stream[0].Manifest.Tensors[0].Name);
        Assert.True(_stream[0].Manifest.Tensors[0].ByteLength >= WeightAssembler.BackgroundHashBytes);
        Assert.True(_stream[0].Manifest.Tensors[^1].ByteLength < WeightAssembler.BackgroundHashBytes);
    }

    [Fact]
    public void IntactStreamWithBackgroundHashesIsAccepted()
    {
        WeightApplier.Apply(_target, Assemble(_stream));

        Assert.Equal(WeightChecksum.Of(_source), WeightChecksum.Of(_target));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void FlippedByteInABackgroundHashedTensorIsRejected(int chunk)
    {
        var chunks = ChunksOf(_stream, 0);
        var corrupted = _stream[chunk >= 0 ? chunks[chunk] : chunks[^1]].Tensor;
        var data = corrupted.Data.ToByteArray();
        data[^3] ^= 0x40;
        corrupted.Data = ByteString.CopyFrom(data);

        AssertRejected(_target, _stream, $"'{Embedding}' (tensors[0])", "digest mismatch");
    }

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }
}
