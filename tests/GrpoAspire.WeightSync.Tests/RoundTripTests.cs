using System.IO.Hashing;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>Snapshot -> chunks -> assembler -> apply makes a replica's weights exactly the trainer's.</summary>
public sealed class RoundTripTests
{
    [Theory]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    [InlineData("float16")]
    public void RoundTripMakesARandomModelIdenticalToTheSource(string dtype)
    {
        var type = TorchRuntime.ParseDtype(dtype);
        using var source = TinyQwen.Random(seed: 1, type);
        using var target = TinyQwen.Random(seed: 2, type);
        Assert.NotEqual(WeightChecksum.Of(source), WeightChecksum.Of(target));

        var weights = Streams.Assemble(Streams.Of(WeightSnapshot.Capture(source, version: 3), maxChunkBytes: 1000));
        var applied = WeightApplier.Apply(target, weights);

        Assert.Equal(3, applied);
        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(target));
        Assert.All(target.named_parameters(), p => Assert.Equal(type, p.parameter.dtype));
        Assert.Equal(TinyQwen.Logits(source), TinyQwen.Logits(target));
    }

    [Fact]
    public void ModelSnapshotAndPulledWeightsHaveTheSameChecksum()
    {
        using var source = TinyQwen.Random(seed: 1);
        var snapshot = WeightSnapshot.Capture(source, version: 1);

        var weights = Streams.Assemble(Streams.Of(snapshot));

        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(snapshot));
        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(weights));
    }

    [Fact]
    public void ChecksumChangesWhenOneElementOfOneWeightChanges()
    {
        using var model = TinyQwen.Random(seed: 1);
        var before = WeightChecksum.Of(model);

        using (no_grad())
        {
            using var element = model.model.norm.weight.narrow(0, 5, 1);
            element.fill_(1.5);
        }

        Assert.NotEqual(before, WeightChecksum.Of(model));
    }

    [Fact]
    public void ManifestListsEveryParameterInModuleOrderWithItsRawBytesHash()
    {
        using var model = TinyQwen.Random(seed: 1, ScalarType.BFloat16);
        var manifest = Streams.Of(WeightSnapshot.Capture(model, version: 7))[0].Manifest;

        var parameters = model.named_parameters().ToList();
        Assert.Equal(7, manifest.Version);
        Assert.Equal(parameters.Select(p => p.name), manifest.Tensors.Select(t => t.Name));
        Assert.Contains("model.layers.1.self_attn.q_proj.bias", manifest.Tensors.Select(t => t.Name));
        for (var i = 0; i < parameters.Count; i++)
        {
            var (name, parameter) = parameters[i];
            var info = manifest.Tensors[i];
            Assert.Equal("bfloat16", info.Dtype);
            Assert.Equal(parameter.shape, info.Shape);
            Assert.Equal(parameter.numel() * 2, info.ByteLength);
            Assert.Equal(XxHash128.Hash(parameter.bytes.ToArray()), info.Digest.ToByteArray());
        }

        Assert.Equal(manifest.Tensors.Sum(t => t.ByteLength), manifest.TotalBytes);
    }

    [Fact]
    public void SmallChunksSplitEveryTensorInOrderAndNoneExceedsTheLimit()
    {
        using var source = TinyQwen.Random(seed: 1);
        var snapshot = WeightSnapshot.Capture(source, version: 1);

        var stream = Streams.Of(snapshot, maxChunkBytes: 1000);

        Assert.Equal(WeightChunk.KindOneofCase.Manifest, stream[0].KindCase);
        var chunks = stream.Skip(1).Select(c => c.Tensor).ToList();
        Assert.All(chunks, c => Assert.InRange(c.Data.Length, 1, 1000));
        Assert.Equal(Enumerable.Range(0, snapshot.Tensors.Count), chunks.Select(c => c.TensorIndex).Distinct());
        Assert.Contains(chunks.GroupBy(c => c.TensorIndex), g => g.Count() > 5);
        foreach (var group in chunks.GroupBy(c => c.TensorIndex))
        {
            var offsets = group.Select(c => c.Offset).ToList();
            Assert.Equal(offsets.Select((_, k) => k * 1000L), offsets);
            Assert.Equal(snapshot.Tensors[group.Key].ByteLength, group.Sum(c => (long)c.Data.Length));
        }
    }

    [Fact]
    public void DefaultChunksNeverExceedOneMebibyteAndSplitTheLargeEmbedding()
    {
        using var source = TinyQwen.WithLargeEmbedding(seed: 1);
        using var target = TinyQwen.WithLargeEmbedding(seed: 2);
        var snapshot = WeightSnapshot.Capture(source, version: 1);

        var stream = Streams.Of(snapshot);
        WeightApplier.Apply(target, Streams.Assemble(stream));

        Assert.All(stream.Skip(1), c => Assert.True(c.Tensor.Data.Length <= 1 << 20));
        var embedding = snapshot.Tensors.ToList().FindIndex(t => t.Name == "model.embed_tokens.weight");
        Assert.Equal(5000L * 128 * 4, snapshot.Tensors[embedding].ByteLength);
        Assert.Equal([1 << 20, 1 << 20, (5000 * 128 * 4) - (2 << 20)], Streams.ChunksOf(stream, embedding).Select(i => stream[i].Tensor.Data.Length));
        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(target));
    }

    [Fact]
    public void UntiedModelCarriesItsLmHeadAcross()
    {
        var config = TinyQwen.Config(tied: false);
        using var source = TinyQwen.Random(seed: 1, config: config);
        using var target = TinyQwen.Random(seed: 2, config: config);

        var weights = Streams.Assemble(Streams.Of(WeightSnapshot.Capture(source, version: 1)));
        WeightApplier.Apply(target, weights);

        Assert.Contains(weights.Tensors, t => t.Name == "lm_head.weight");
        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(target));
    }

    [Fact]
    public void SnapshotKeepsTheCapturedValuesWhileTheModelTrainsOn()
    {
        using var model = TinyQwen.Random(seed: 1);
        var snapshot = WeightSnapshot.Capture(model, version: 1);
        var captured = WeightChecksum.Of(model);

        using (no_grad())
        {
            foreach (var parameter in model.parameters())
            {
                parameter.add_(0.5);
            }
        }

        Assert.Equal(captured, WeightChecksum.Of(snapshot));
        Assert.NotEqual(captured, WeightChecksum.Of(model));
    }

    [Fact]
    public void ApplyingKeepsTheTargetsParameterObjectsAndTheirGradientFlag()
    {
        using var source = TinyQwen.Random(seed: 1);
        using var target = TinyQwen.Random(seed: 2);
        var before = target.named_parameters().ToDictionary(p => p.name, p => p.parameter);

        WeightApplier.Apply(target, Streams.Assemble(Streams.Of(WeightSnapshot.Capture(source, version: 1))));

        Assert.All(target.named_parameters(), p =>
        {
            Assert.Same(before[p.name], p.parameter);
            Assert.True(p.parameter.requires_grad);
        });
    }

    [Fact]
    public void CaptureRejectsVersionsBelowOne()
    {
        using var model = TinyQwen.Random(seed: 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => WeightSnapshot.Capture(model, version: 0));
    }

    [Fact]
    public void ChunkerRejectsChunksOverTheProtocolLimit()
    {
        using var model = TinyQwen.Random(seed: 1);
        var snapshot = WeightSnapshot.Capture(model, version: 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => WeightChunker.Chunks(snapshot, (1 << 20) + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightChunker.Chunks(snapshot, 0));
    }
}
