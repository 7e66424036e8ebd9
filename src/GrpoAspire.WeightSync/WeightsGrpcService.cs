using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.WeightSync;

/// <summary>
/// The <c>grpo.v1.WeightsService</c> endpoint: finds the asked version in the <see cref="IWeightSource"/> and streams
/// it through <see cref="WeightChunker"/>. Guard <see cref="GetWeightsMethod"/> with
/// <see cref="BearerTokenServiceCollectionExtensions.AddGrpcBearerToken"/>; <c>GetWeightsInfo</c> reveals no weights
/// (version, tensor count, size), so replicas and dashboards may poll it without the secret.
/// </summary>
public sealed class WeightsGrpcService(IWeightSource source) : WeightsService.WeightsServiceBase
{
    /// <summary>"/grpo.v1.WeightsService/GetWeights", as <see cref="ServerCallContext.Method"/> names it.</summary>
    public static readonly string GetWeightsMethod = $"/{WeightsService.Descriptor.FullName}/GetWeights";

    public override async Task GetWeights(
        GetWeightsRequest request, IServerStreamWriter<WeightChunk> responseStream, ServerCallContext context)
    {
        var (shard, shards) = WeightsErrors.Shard(request);
        var snapshot = WeightsErrors.Resolve(source, request.Version);
        foreach (var chunk in WeightChunker.Chunks(snapshot, shard: shard, shards: shards))
        {
            // A replica that went away stops the stream here rather than after the whole version.
            context.CancellationToken.ThrowIfCancellationRequested();
            await responseStream.WriteAsync(chunk, context.CancellationToken);
        }
    }

    public override Task<GetWeightsInfoResponse> GetWeightsInfo(GetWeightsInfoRequest request, ServerCallContext context)
    {
        var snapshot = WeightsErrors.Resolve(source, request.Version);
        return Task.FromResult(new GetWeightsInfoResponse
        {
            Version = snapshot.Version,
            TensorCount = snapshot.Tensors.Count,
            TotalBytes = snapshot.TotalBytes,
        });
    }
}
