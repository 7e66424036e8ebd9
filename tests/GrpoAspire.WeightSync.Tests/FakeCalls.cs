using Grpc.Core;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>A server call context with chosen method, headers and cancellation, for calling handlers directly.</summary>
internal sealed class FakeServerCallContext(string method, Metadata? headers = null, CancellationToken cancellationToken = default)
    : ServerCallContext
{
    protected override string MethodCore => method;

    protected override string HostCore => "127.0.0.1";

    protected override string PeerCore => "ipv4:127.0.0.1:1";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore { get; } = headers ?? [];

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}

/// <summary>Keeps what a handler writes, and runs a callback after each message.</summary>
internal sealed class RecordingWriter<T>(Action<int>? afterWrite = null) : IServerStreamWriter<T>
{
    public List<T> Messages { get; } = [];

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message)
    {
        Messages.Add(message);
        afterWrite?.Invoke(Messages.Count);
        return Task.CompletedTask;
    }

    /// <summary>As gRPC's own writers: a cancelled token fails the write (the interface's default refuses any token).</summary>
    public Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return WriteAsync(message);
    }
}
