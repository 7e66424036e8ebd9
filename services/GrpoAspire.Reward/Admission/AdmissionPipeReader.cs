using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Grpc.Core;
using GrpoAspire.Reward.Options;

namespace GrpoAspire.Reward.Admission;

/// <summary>
/// The request body as gRPC reads it, admitting each message against the <see cref="MessageBudget"/> as soon as its
/// 5-byte prefix (compressed flag, big-endian length) arrives: gRPC buffers a whole message before deserializing it, so
/// this is the last point where a refusal costs no more than HTTP/2 flow control lets a caller send unasked.
/// </summary>
/// <remarks>
/// A refused message ends the call with <c>RESOURCE_EXHAUSTED</c> (<c>UNIMPLEMENTED</c> when compressed). A unary call holds its message until the call ends
/// (the handler scores the deserialized request after reading); a stream releases a message once gRPC has consumed
/// it and asks for the next, which the handler does only when it is done with the previous one. An admitted message
/// must arrive whole within the receive timeout: otherwise one caller announcing a large message and sending it
/// slowly (or never) would hold the budget, and with it the whole service.
/// </remarks>
internal sealed class AdmissionPipeReader(
    PipeReader inner, MessageBudget budget, int maxMessageBytes, TimeSpan receiveTimeout, bool streaming) : PipeReader
{
    private const int PrefixBytes = 5;

    /// <summary>Admitted messages not yet released: where each ends in the body, and its reserved bytes.</summary>
    private readonly Queue<(long End, long Bytes)> _admitted = new();
    private ReadOnlySequence<byte> _buffer;

    /// <summary>Body offset of the first byte of <see cref="_buffer"/>.</summary>
    private long _bufferStart;

    /// <summary>Body offset of the next message's prefix.</summary>
    private long _nextPrefix;

    /// <summary>
    /// <see cref="Environment.TickCount64"/> by which the last admitted message must be in, 0 when it is; a unary call's
    /// one message is due from the start of the call.
    /// </summary>
    private long _dueAt = streaming ? 0 : Environment.TickCount64 + (long)receiveTimeout.TotalMilliseconds;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ReleaseConsumed();
        ReadResult result;
        if (_dueAt == 0)
        {
            result = await inner.ReadAsync(cancellationToken);
        }
        else
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(0, _dueAt - Environment.TickCount64)));
            try
            {
                result = await inner.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var what = _admitted.Count > 0 ? $"a message of {_admitted.Last().Bytes} bytes" : "the call's message";
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"{what} did not arrive within {RewardOptions.SectionName}:MessageReceiveSeconds {receiveTimeout.TotalSeconds:F0}"));
            }
        }

        Admit(result);
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        ReleaseConsumed();
        if (!inner.TryRead(out result))
        {
            return false;
        }

        Admit(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _bufferStart += _buffer.Slice(_buffer.Start, consumed).Length;
        _buffer = default;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    /// <summary>
    /// Whether a message was refused by its prefix while its caller may still be sending it; the middleware then
    /// answers at once and reads the rest of the body away.
    /// </summary>
    public bool Refused { get; private set; }

    /// <summary>Completes the body unless a refusal left it to the middleware to read away.</summary>
    public override void Complete(Exception? exception = null)
    {
        if (!Refused)
        {
            inner.Complete(exception);
        }
    }

    /// <summary>Gives back every message still held; the call is over.</summary>
    public void ReleaseAll()
    {
        while (_admitted.TryDequeue(out var message))
        {
            budget.Release(message.Bytes);
        }
    }

    private void ReleaseConsumed()
    {
        while (streaming && _admitted.TryPeek(out var message) && message.End <= _bufferStart)
        {
            budget.Release(_admitted.Dequeue().Bytes);
        }
    }

    private void Admit(ReadResult result)
    {
        _buffer = result.Buffer;
        Span<byte> prefix = stackalloc byte[PrefixBytes];
        while (_buffer.Length - (_nextPrefix - _bufferStart) >= PrefixBytes)
        {
            _buffer.Slice(_nextPrefix - _bufferStart, PrefixBytes).CopyTo(prefix);
            if (prefix[0] != 0)
            {
                // gRPC would inflate it into one unbounded buffer: a few MB of gzip can hold gigabytes.
                throw Refuse(StatusCode.Unimplemented, "the reward service does not accept compressed messages; send them uncompressed (grpc-encoding identity)");
            }

            long length = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
            if (length > maxMessageBytes)
            {
                throw Refuse(StatusCode.ResourceExhausted, $"a message of {length} bytes exceeds the reward service's limit of {maxMessageBytes} bytes "
                    + $"({RewardOptions.SectionName}:MaxBatchSize x ({RewardOptions.SectionName}:MaxCompletionBytes + "
                    + $"{RewardOptions.CompletionOverheadBytes}), at most {RewardOptions.MaxMessageBytesCap})");
            }

            if (!budget.TryReserve(length))
            {
                throw Refuse(StatusCode.ResourceExhausted, $"the reward service is busy: a message of {length} bytes does not fit in "
                    + $"{RewardOptions.SectionName}:MaxInFlightMessageBytes {budget.Capacity} ({budget.InUse} in use); retry later");
            }

            _nextPrefix += PrefixBytes + length;
            _admitted.Enqueue((_nextPrefix, length));
            _dueAt = Environment.TickCount64 + (long)receiveTimeout.TotalMilliseconds;
        }

        if (_admitted.Count > 0 && _bufferStart + _buffer.Length >= _nextPrefix)
        {
            _dueAt = 0;
        }
    }

    private RpcException Refuse(StatusCode code, string message)
    {
        // Nothing consumed: the call ends with this status, and the middleware reads the rest of the body away.
        inner.AdvanceTo(_buffer.Start, _buffer.Start);
        _buffer = default;
        Refused = true;
        return new RpcException(new Status(code, message));
    }
}
