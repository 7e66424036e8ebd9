using GrpoAspire.Contracts.V1;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>A replica's pulls reuse the buffers of the version it applied last, and returned weights cannot be read.</summary>
public sealed class WeightBufferPoolTests
{
    [Fact]
    public void APullFillsTheBuffersOfTheVersionReturnedBeforeItAndHoldsTheNewWeights()
    {
        using var first = TinyQwen.Random(seed: 1);
        using var second = TinyQwen.Random(seed: 2);
        var pool = new WeightBufferPool();
        var options = new WeightAssemblerOptions { Buffers = pool };

        var one = Streams.Assemble(Streams.Of(WeightSnapshot.Capture(first, version: 1), maxChunkBytes: 1000), options);
        var oneBuffers = one.Tensors.Select(t => t.Data).Where(d => d.Length > 0).ToHashSet(ReferenceEqualityComparer.Instance);
        pool.Return(one);
        var two = Streams.Assemble(Streams.Of(WeightSnapshot.Capture(second, version: 2), maxChunkBytes: 1000), options);

        Assert.All(two.Tensors.Where(t => t.ByteLength > 0), t => Assert.Contains(t.Data, oneBuffers));
        Assert.Equal(WeightChecksum.Of(second), WeightChecksum.Of(two));
        Assert.Equal(0, pool.PooledBytes);
    }

    [Fact]
    public void ReturnedWeightsCannotBeReadOrReturnedAgain()
    {
        using var model = TinyQwen.Random(seed: 1);
        var pool = new WeightBufferPool();
        var weights = Streams.Assemble(Streams.Of(WeightSnapshot.Capture(model, version: 4)), new WeightAssemblerOptions { Buffers = pool });

        pool.Return(weights);

        var read = Assert.Throws<ObjectDisposedException>(() => weights.Tensors);
        Assert.Contains("version 4", read.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => WeightApplier.Apply(model, weights));
        Assert.Throws<InvalidOperationException>(() => pool.Return(weights));
    }

    [Fact]
    public void APoolHoldsTheBuffersOfOneVersion()
    {
        using var model = TinyQwen.Random(seed: 1);
        var snapshot = WeightSnapshot.Capture(model, version: 1);
        var pool = new WeightBufferPool();

        pool.Return(Streams.Assemble(Streams.Of(snapshot)));
        pool.Return(Streams.Assemble(Streams.Of(snapshot)));

        Assert.Equal(snapshot.TotalBytes, pool.PooledBytes);
    }

    [Fact]
    public void ACorruptStreamIntoPooledBuffersFailsAndTheNextPullIsWhole()
    {
        using var first = TinyQwen.Random(seed: 1);
        using var second = TinyQwen.Random(seed: 2);
        var pool = new WeightBufferPool();
        var options = new WeightAssemblerOptions { Buffers = pool };
        pool.Return(Streams.Assemble(Streams.Of(WeightSnapshot.Capture(first, version: 1)), options));

        // The second version's stream with one chunk carrying the first version's bytes: the pooled buffer already held
        // exactly those, so only the digest can tell.
        var snapshot = WeightSnapshot.Capture(second, version: 2);
        var stream = Streams.Of(snapshot);
        var index = stream.FindIndex(c => c.KindCase == WeightChunk.KindOneofCase.Tensor);
        var stale = Streams.Of(WeightSnapshot.Capture(first, version: 1))[index];
        stream[index] = stale;
        Assert.Throws<WeightStreamException>(() => Streams.Assemble(stream, options));

        var whole = Streams.Assemble(Streams.Of(snapshot), options);
        Assert.Equal(WeightChecksum.Of(second), WeightChecksum.Of(whole));
    }
}
