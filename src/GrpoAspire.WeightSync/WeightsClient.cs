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
    /// GetWeights with a response marshaller that hands each message to the stream reading it (<see cref="Reading"/>). One
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
    /// The stream this flow reads: gRPC runs the response marshaller inside the awaits of <see cref="StreamAsync"/>, which
    /// sets it for its own flow only, so concurrent streams each fill their own assembler.
    /// </summary>
    private static readonly AsyncLocal<StreamSink?> Reading = new();

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
    public Task<VerifiedWeights> PullAsync(
        long version, string? bearerToken, WeightAssemblerOptions options, CancellationToken cancellationToken) =>
        PullAsync([this], version, bearerToken, options, cancellationToken);

    /// <summary>
    /// Streams <paramref name="version"/> split over one <c>GetWeights</c> call per client in <paramref name="streams"/>
    /// (shard i through [i]; name a client several times for several streams on its channel, give clients of different
    /// channels for different connections), and returns it once every shard arrived, verified and agreed on the
    /// manifest. A version of 0 is first resolved to the latest one's number. The first failure cancels the other
    /// streams and is what this throws.
    /// </summary>
    /// <exception cref="WeightStreamException">A stream broke a rule or a limit of <paramref name="options"/>.</exception>
    /// <exception cref="RpcException">A call failed (PermissionDenied, NotFound, FailedPrecondition, Unavailable, ...).</exception>
    public static async Task<VerifiedWeights> PullAsync(
        IReadOnlyList<WeightsClient> streams,
        long version,
        string? bearerToken,
        WeightAssemblerOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentOutOfRangeException.ThrowIfLessThan(streams.Count, 1, nameof(streams));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(streams.Count, WeightShards.MaxShards, nameof(streams));
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        if (streams.Count == 1)
        {
            var whole = new WeightAssembler(options, version);
            await streams[0].StreamAsync(whole, new GetWeightsRequest { Version = version }, bearerToken, cancellationToken);
            return whole.Complete();
        }

        return await PullSplitAsync(streams, version, bearerToken, options, cancellationToken);
    }

    /// <summary>
    /// Shard i of <paramref name="version"/> through <paramref name="streams"/>[i], all at once; the first failure cancels
    /// the other streams and is what this throws.
    /// </summary>
    private static async Task<VerifiedWeights> PullSplitAsync(
        IReadOnlyList<WeightsClient> streams,
        long version,
        string? bearerToken,
        WeightAssemblerOptions options,
        CancellationToken cancellationToken)
    {
        if (version == 0)
        {
            version = (await new WeightsService.WeightsServiceClient(streams[0].CallInvoker).GetWeightsInfoAsync(
                new GetWeightsInfoRequest(), AuthorizationHeaders(bearerToken), cancellationToken: cancellationToken)).Version;
        }

        var shards = streams.Count;
        var parts = Enumerable.Range(0, shards).Select(shard => new WeightAssembler(options, version, shard, shards)).ToArray();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? first = null;
        await Task.WhenAll(parts.Select(async (part, shard) =>
        {
            try
            {
                var request = new GetWeightsRequest { Version = version, Shard = shard, Shards = shards };
                await streams[shard].StreamAsync(part, request, bearerToken, failed.Token);
            }
            catch (Exception e)
            {
                // The first failure stops the others; their cancellations are not what went wrong.
                if (Interlocked.CompareExchange(ref first, e, null) is null)
                {
                    await failed.CancelAsync();
                }
            }
        }));
        if (first is not null)
        {
            ExceptionDispatchInfo.Throw(first);
        }

        return WeightAssembler.Combine(parts);
    }

    /// <summary><c>authorization: Bearer &lt;token&gt;</c>, or null without a token; for any call to a guarded service.</summary>
    public static Metadata? AuthorizationHeaders(string? bearerToken) =>
        string.IsNullOrEmpty(bearerToken)
            ? null
            : new Metadata { { BearerTokenInterceptor.HeaderName, $"{BearerTokenInterceptor.Scheme} {bearerToken}" } };

    protected override WeightsClient NewInstance(ClientBaseConfiguration configuration) => new(configuration);

    /// <summary>One GetWeights call, each message into <paramref name="assembler"/>, until the stream ends or breaks a rule.</summary>
    private async Task StreamAsync(WeightAssembler assembler, GetWeightsRequest request, string? bearerToken, CancellationToken cancellationToken)
    {
        var sink = new StreamSink(assembler);
        Reading.Value = sink;
        // Disposing the call (also when the assembler throws) cancels the rest of the stream on the server.
        using var call = CallInvoker.AsyncServerStreamingCall(
            GetWeights, host: null, new CallOptions(AuthorizationHeaders(bearerToken), cancellationToken: cancellationToken), request);
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            sink.ThrowIfFailed();
        }
    }

    /// <summary>One stream's assembler, and the stream rule it broke (kept for the reading loop: an exception thrown by a marshaller reaches the caller as an Internal <see cref="RpcException"/>).</summary>
    private sealed class StreamSink(WeightAssembler assembler)
    {
        private WeightStreamException? _failure;

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
                    assembler.AddTensorChunk(index, offset, data);
                }
                else
                {
                    assembler.Add(WeightChunk.Parser.ParseFrom(payload));
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

    /// <summary>What the response marshaller returns: the message itself is in its stream's assembler already.</summary>
    private sealed class Received
    {
        private static readonly Received Instance = new();

        public static Received Read(DeserializationContext context)
        {
            var sink = Reading.Value
                ?? throw new InvalidOperationException($"a GetWeights message arrived outside {nameof(WeightsClient)}.{nameof(PullAsync)}");
            sink.Take(context.PayloadAsReadOnlySequence());
            return Instance;
        }
    }
}
