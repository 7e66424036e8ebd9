using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>The service's handlers called directly, where a test can watch every message and the cancellation.</summary>
public sealed class ServiceTests
{
    [Fact]
    public async Task GetWeightsStreamsTheManifestThenEveryChunkOfTheVersion()
    {
        using var model = TinyQwen.WithLargeEmbedding(seed: 1);
        var store = new WeightStore();
        store.Publish(WeightSnapshot.Capture(model, version: 1));
        var writer = new RecordingWriter<WeightChunk>();

        await new WeightsGrpcService(store).GetWeights(
            new GetWeightsRequest(), writer, new FakeServerCallContext(WeightsGrpcService.GetWeightsMethod));

        Assert.Equal(WeightChunker.Chunks(store.Latest!).Count(), writer.Messages.Count);
        Assert.Equal(WeightChecksum.Of(model), WeightChecksum.Of(Streams.Assemble(writer.Messages)));
    }

    [Fact]
    public async Task GetWeightsStopsWritingOnceTheCallIsCancelled()
    {
        using var model = TinyQwen.WithLargeEmbedding(seed: 1);
        var store = new WeightStore();
        store.Publish(WeightSnapshot.Capture(model, version: 1));
        using var cancellation = new CancellationTokenSource();
        var writer = new RecordingWriter<WeightChunk>(written =>
        {
            if (written == 3)
            {
                cancellation.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new WeightsGrpcService(store).GetWeights(
            new GetWeightsRequest(), writer, new FakeServerCallContext(WeightsGrpcService.GetWeightsMethod, cancellationToken: cancellation.Token)));

        Assert.Equal(3, writer.Messages.Count);
    }

    [Fact]
    public void GetWeightsMethodIsThePathGrpcReportsForTheCall()
    {
        Assert.Equal("/grpo.v1.WeightsService/GetWeights", WeightsGrpcService.GetWeightsMethod);
    }
}
