using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.WeightSync;

/// <summary>Throw helpers that turn a version the source cannot serve into a gRPC status with a clear message.</summary>
internal static class WeightsErrors
{
    /// <summary>The asked version (0 = latest), or InvalidArgument, FailedPrecondition or NotFound.</summary>
    public static WeightSnapshot Resolve(IWeightSource source, long version)
    {
        if (version < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"version {version} is not valid; use 0 for the latest or a version >= 1"));
        }

        var latest = source.Latest
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, "no weights have been published yet"));
        if (version == 0)
        {
            return latest;
        }

        return source.Get(version)
            ?? throw new RpcException(new Status(
                StatusCode.NotFound, $"weights version {version} is not available; the latest is {latest.Version}"));
    }

    /// <summary>The request's shard and shard count (0 shards meaning 1), or InvalidArgument.</summary>
    public static (int Shard, int Shards) Shard(GetWeightsRequest request)
    {
        var shards = Math.Max(request.Shards, 1);
        if (request.Shards < 0 || shards > WeightShards.MaxShards || request.Shard < 0 || request.Shard >= shards)
        {
            throw new RpcException(new Status(
                StatusCode.InvalidArgument,
                $"shard {request.Shard} of {request.Shards} is not valid; use 0 <= shard < shards <= {WeightShards.MaxShards}, or shard 0 of 0 for every tensor"));
        }

        return (request.Shard, shards);
    }
}
