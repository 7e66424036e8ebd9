using System.Buffers;
using System.Runtime.ExceptionServices;
using Google.Protobuf;
using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.WeightSync;

/// <summary>
/// The replica's side of <c>GetWeights</c>: pulls a version into a <see cref="WeightAssembler"/>. Each tensor chunk is
/// copied from gRPC's receive buffer straight into its tensor's memory (<see cref="TensorChunkReader"/>); the generated
/// client would first copy it into a new 1 MiB <c>ByteString</c> (its pulls of 0.5B took 1.5 s at the median on the
/// 2-core machine, against 0.99 s read in place: weight-sync-in-place-read-cpu-2026-12-08.json).
/// Bound a whole pull with the cancellation token (e.g. a source with <c>CancelAfter</c>), not a retry policy: a stream
/// of gigabytes needs an explicit deadline, and cancelling the token cancels the call on the trainer too. Set the
/// channel's <c>MaxReceiveMessageSize</c> to at least <see cref="WeightChunker.MaxMessageBytes"/>.
/// </summary>
public sealed class WeightsClient : ClientBase<WeightsClient>
{
    /// <summary>
    /// GetWeights with a response marshaller that hands each message to the pull reading it (<see cref="Reading"/>). One
    /// instance for every call: a channel caches each method instance it sees, so one per pull would grow without end.
    /// </summary>
    private static readonly Method<GetWeightsRequest, Received> GetWeights = new(
        MethodType.ServerStreaming,
        WeightsService.Descriptor.FullName,
        "GetWeights",
        Marshallers.Create((GetWeightsRequest request) => request.ToByteArray(), GetWeightsRequest.Parser.ParseFrom),
        new Marshaller<Received>(
            (Received _, SerializationContext _) => throw new NotSupportedException("a replica sends no weight chunks"),
            Received.Read));

    /// <summary>
    /// The pull whose stream this flow reads: gRPC runs the response marshaller inside the awaits of
    /// <see cref="PullAsync(long, string?, WeightAssemblerOptions, CancellationToken)"/>, which sets it for its own flow
    /// only, so concurrent pulls each fill their own assembler.
    /// </summary>
    private static readonly AsyncLocal<Pull?> Reading = new();

    public WeightsClient(ChannelBase channel)
        : base(channel)
    {
    }

    public WeightsClient(CallInvoker callInvoker)
        : base(callInvoker)
    {
    }

    private WeightsClient(ClientBaseConfiguration configuration)
        : base(configuration)
    {
    }

    /// <summary>Pulls with the default <see cref="WeightAssemblerOptions"/>.</summary>
    public Task<VerifiedWeights> PullAsync(long version, string? bearerToken, CancellationToken cancellationToken) =>
        PullAsync(version, bearerToken, new WeightAssemblerOptions(), cancellationToken);

    /// <summary>
    /// Streams <paramref name="version"/> (0 = the latest) and returns it once every tensor arrived and verified.
    /// </summary>
    /// <exception cref="WeightStreamException">The stream broke a rule or a limit of <paramref name="options"/>.</exception>
    /// <exception cref="RpcException">The call failed (PermissionDenied, NotFound, FailedPrecondition, Unavailable, ...).</exception>
    public async Task<VerifiedWeights> PullAsync(
        long version, string? bearerToken, WeightAssemblerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var pull = new Pull(new WeightAssembler(options, version));
        Reading.Value = pull;
        // Disposing the call (also when the assembler throws) cancels the rest of the stream on the server.
        using var call = CallInvoker.AsyncServerStreamingCall(
            GetWeights,
            host: null,
            new CallOptions(AuthorizationHeaders(bearerToken), cancellationToken: cancellationToken),
            new GetWeightsRequest { Version = version });
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            pull.ThrowIfFailed();
        }

        return pull.Assembler.Complete();
    }

    /// <summary><c>authorization: Bearer &lt;token&gt;</c>, or null without a token; for any call to a guarded service.</summary>
    public static Metadata? AuthorizationHeaders(string? bearerToken) =>
        string.IsNullOrEmpty(bearerToken)
            ? null
            : new Metadata { { BearerTokenInterceptor.HeaderName, $"{BearerTokenInterceptor.Scheme} {bearerToken}" } };

    protected override WeightsClient NewInstance(ClientBaseConfiguration configuration) => new(configuration);

    /// <summary>One pull's assembler, and the stream rule it broke (kept for the reading loop: an exception thrown by a marshaller reaches the caller as an Internal <see cref="RpcException"/>).</summary>
    private sealed class Pull(WeightAssembler assembler)
    {
        private WeightStreamException? _failure;

        public WeightAssembler Assembler { get; } = assembler;

        public void Take(ReadOnlySequence<byte> payload)
        {
            if (_failure is not null)
            {
                return;
            }

            try
            {
                if (TensorChunkReader.TryRead(payload, out var index, out var offset, out var data))
                {
                    Assembler.AddTensorChunk(index, offset, data);
                }
                else
                {
                    Assembler.Add(WeightChunk.Parser.ParseFrom(payload));
                }
            }
            catch (WeightStreamException e)
            {
                _failure = e;
            }
        }

        public void ThrowIfFailed()
        {
            if (_failure is not null)
            {
                ExceptionDispatchInfo.Throw(_failure);
            }
        }
    }

    /// <summary>What the response marshaller returns: the message itself is in the pull's assembler already.</summary>
    private sealed class Received
    {
        private static readonly Received Instance = new();

        public static Received Read(DeserializationContext context)
        {
            var pull = Reading.Value
                ?? throw new InvalidOperationException($"a GetWeights message arrived outside {nameof(WeightsClient)}.{nameof(PullAsync)}");
            pull.Take(context.PayloadAsReadOnlySequence());
            return Instance;
        }
    }
}
