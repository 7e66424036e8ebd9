using Grpc.Core;

namespace GrpoAspire.Reward.Services;

/// <summary>Throw helpers that turn bad input into gRPC statuses with messages naming the place at fault.</summary>
internal static class RewardErrors
{
    /// <summary>Longest caller id quoted back in an error, so a hostile id cannot bloat the status.</summary>
    private const int MaxQuotedIdLength = 64;

    public static RpcException InvalidArgument(string message) =>
        new(new Status(StatusCode.InvalidArgument, message));

    /// <summary>"completions[3] (id 'job-17/3')", with the stream's message prefix if any.</summary>
    public static string CompletionPlace(string prefix, int index, string id)
    {
        var quoted = id.Length <= MaxQuotedIdLength ? id : id[..MaxQuotedIdLength] + "...";
        return $"{prefix}completions[{index}] (id '{quoted}')";
    }
}
