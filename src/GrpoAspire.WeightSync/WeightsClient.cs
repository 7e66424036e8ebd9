using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.WeightSync;

/// <summary>
/// Pulls a weights version into a <see cref="WeightAssembler"/>: the replica's side of <c>GetWeights</c>. Bound the
/// whole pull with the cancellation token (e.g. a source with <c>CancelAfter</c>), not a retry policy: a stream of
/// gigabytes needs an explicit deadline, and cancelling the token cancels the call on the trainer too.
/// </summary>
public static class WeightsClient
{
    /// <summary>Pulls with the default <see cref="WeightAssemblerOptions"/>.</summary>
    public static Task<VerifiedWeights> PullAsync(
        WeightsService.WeightsServiceClient client, long version, string? bearerToken, CancellationToken cancellationToken) =>
        PullAsync(client, version, bearerToken, new WeightAssemblerOptions(), cancellationToken);

    /// <summary>
    /// Streams <paramref name="version"/> (0 = the latest) and returns it once every tensor arrived and verified.
    /// </summary>
    /// <exception cref="WeightStreamException">The stream broke a rule or a limit of <paramref name="options"/>.</exception>
    /// <exception cref="RpcException">The call failed (PermissionDenied, NotFound, FailedPrecondition, Unavailable, ...).</exception>
    public static async Task<VerifiedWeights> PullAsync(
        WeightsService.WeightsServiceClient client,
        long version,
        string? bearerToken,
        WeightAssemblerOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var assembler = new WeightAssembler(options, version);
        // Disposing the call (also when the assembler throws) cancels the rest of the stream on the server.
        using var call = client.GetWeights(
            new GetWeightsRequest { Version = version }, AuthorizationHeaders(bearerToken), cancellationToken: cancellationToken);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            assembler.Add(chunk);
        }

        return assembler.Complete();
    }

    /// <summary><c>authorization: Bearer &lt;token&gt;</c>, or null without a token; for any call to a guarded service.</summary>
    public static Metadata? AuthorizationHeaders(string? bearerToken) =>
        string.IsNullOrEmpty(bearerToken)
            ? null
            : new Metadata { { BearerTokenInterceptor.HeaderName, $"{BearerTokenInterceptor.Scheme} {bearerToken}" } };
}
