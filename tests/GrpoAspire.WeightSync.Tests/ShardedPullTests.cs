using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Qwen2;
using static GrpoAspire.WeightSync.Tests.Streams;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>A pull split over several streams, each carrying its shard of the tensors, gives the version a single stream gives.</summary>
public sealed class ShardedPullTests : IDisposable
{
    private const int ChunkBytes = 1000;
    private readonly Qwen2ForCausalLM _trainer = TinyQwen.WithLargeEmbedding(seed: 1);
    private readonly Qwen2ForCausalLM _replica = TinyQwen.WithLargeEmbedding(seed: 2);
    private readonly WeightStore _store = new();
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(1));

    [Fact]
    public void ShardsDealTheLargestTensorsFirstToTheLightestShard()
    {
        long[] lengths = [100, 10, 10, 50, 40, 0];

        var shards = WeightShards.Assign(lengths, 2);

        // 100 -> 0; 50 -> 1; 40 -> 1 (90); the first 10 -> 1 (100); the second 10 -> 0, the lower of equal loads; 0 -> 1 (100 < 110).
        Assert.Equal([0, 1, 0, 1, 1, 1], shards);
        Assert.Equal(new int[lengths.Length], WeightShards.Assign(lengths, 1));
    }

    [Fact]
    public void EachShardStreamsTheWholeManifestAndOnlyItsTensors()
    {
        var snapshot = WeightSnapshot.Capture(_trainer, version: 1);
        var assigned = WeightShards.Assign([.. snapshot.Tensors.Select(t => t.ByteLength)], 3);

        var carried = new List<int>();
        for (var shard = 0; shard < 3; shard++)
        {
            var stream = WeightChunker.Chunks(snapshot, ChunkBytes, shard, 3).ToList();
            Assert.Equal(WeightChunker.Manifest(snapshot), stream[0].Manifest);
            var tensors = stream.Skip(1).Select(c => c.Tensor.TensorIndex).Distinct().ToList();
            Assert.All(tensors, index => Assert.Equal(shard, assigned[index]));
            carried.AddRange(tensors);
        }

        Assert.Equal(Enumerable.Range(0, snapshot.Tensors.Count), carried.Order());
    }

    [Fact]
    public void ShardsCombineIntoTheVersionOneStreamGives()
    {
        var snapshot = WeightSnapshot.Capture(_trainer, version: 1);

        var parts = Parts(snapshot, 3);
        var weights = WeightAssembler.Combine(parts);

        Assert.Equal(WeightChecksum.Of(snapshot), WeightChecksum.Of(weights));
        WeightApplier.Apply(_replica, weights);
        Assert.Equal(WeightChecksum.Of(_trainer), WeightChecksum.Of(_replica));
    }

    [Fact]
    public void ChunkOfATensorOfAnotherShardIsRejected()
    {
        var snapshot = WeightSnapshot.Capture(_trainer, version: 1);
        var assembler = new WeightAssembler(options: null, expectedVersion: 1, shard: 1, shards: 2);
        var wholeStream = Of(snapshot, ChunkBytes);
        var foreign = WeightShards.Assign([.. snapshot.Tensors.Select(t => t.ByteLength)], 2).ToList().IndexOf(0);
        assembler.Add(wholeStream[0]);

        var error = Assert.Throws<WeightStreamException>(() => assembler.Add(wholeStream[ChunksOf(wholeStream, foreign)[0]]));

        Assert.Contains($"(tensors[{foreign}]): chunk of a tensor that shard 1 of 2 does not carry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShardsThatAnnouncedDifferentVersionsDoNotCombine()
    {
        var first = WeightSnapshot.Capture(_trainer, version: 1);
        var second = WeightSnapshot.Capture(_trainer, version: 2);
        var parts = new[] { Part(first, 0, 2, expectedVersion: 0), Part(second, 1, 2, expectedVersion: 0) };

        var error = Assert.Throws<WeightStreamException>(() => WeightAssembler.Combine(parts));

        Assert.Contains("announced different manifests: shard 1 of 2 has version 2, shard 0's is version 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShardStreamThatEndsEarlyFailsTheCombine()
    {
        var snapshot = WeightSnapshot.Capture(_trainer, version: 1);
        var short1 = new WeightAssembler(options: null, expectedVersion: 1, shard: 1, shards: 2);
        var stream = WeightChunker.Chunks(snapshot, ChunkBytes, 1, 2).ToList();
        foreach (var chunk in stream.Take(stream.Count - 1))
        {
            short1.Add(chunk);
        }

        var error = Assert.Throws<WeightStreamException>(() => WeightAssembler.Combine([Part(snapshot, 0, 2, expectedVersion: 1), short1]));

        Assert.Contains("the stream ended early", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullSplitOverStreamsAndConnectionsMakesTheReplicaIdenticalToTheTrainer()
    {
        PublishTwoVersions(_store, _trainer);
        await using var server = await WeightsServer.StartAsync(_store);
        using var second = Grpc.Net.Client.GrpcChannel.ForAddress(server.Address);
        WeightsClient[] streams = [server.Weights, server.Weights, new WeightsClient(second)];

        var weights = await WeightsClient.PullAsync(streams, version: 0, WeightsServer.Token, new WeightAssemblerOptions(), _deadline.Token);
        WeightApplier.Apply(_replica, weights);

        Assert.Equal(2, weights.Version); // 0 was resolved to the latest before the streams started
        Assert.Equal(WeightChecksum.Of(_trainer), WeightChecksum.Of(_replica));
    }

    [Fact]
    public async Task AFailingStreamFailsTheSplitPullWithItsOwnError()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store);
        var options = new WeightAssemblerOptions { MaxChunkBytes = 1000 };

        var error = await Assert.ThrowsAsync<WeightStreamException>(() =>
            WeightsClient.PullAsync([server.Weights, server.Weights], version: 1, WeightsServer.Token, options, _deadline.Token));

        Assert.Contains("is over the limit of 1000", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(-1, 2)]
    [InlineData(1, 0)]
    [InlineData(0, -1)]
    [InlineData(0, 65)]
    public async Task ShardOutsideItsCountIsInvalidArgument(int shard, int shards)
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = server.Client.GetWeights(
                new GetWeightsRequest { Version = 1, Shard = shard, Shards = shards }, WeightsClient.AuthorizationHeaders(WeightsServer.Token));
            await call.ResponseStream.MoveNext();
        });

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains($"shard {shard} of {shards} is not valid", error.Status.Detail, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _trainer.Dispose();
        _replica.Dispose();
        _deadline.Dispose();
    }

    private static WeightAssembler[] Parts(WeightSnapshot snapshot, int shards) =>
        [.. Enumerable.Range(0, shards).Select(shard => Part(snapshot, shard, shards, expectedVersion: snapshot.Version))];

    private static WeightAssembler Part(WeightSnapshot snapshot, int shard, int shards, long expectedVersion)
    {
        var assembler = new WeightAssembler(options: null, expectedVersion, shard, shards);
        foreach (var chunk in WeightChunker.Chunks(snapshot, ChunkBytes, shard, shards))
        {
            assembler.Add(chunk);
        }

        return assembler;
    }
}
