using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace GrpoAspire.Faults.Tests;

/// <summary>
/// An HTTP/2 client over cleartext (prior knowledge) that writes frames exactly when told and reads only when asked:
/// the timing a starved client has, which <see cref="HttpClient"/> cannot be made to show.
/// </summary>
internal sealed class RawHttp2Client : IDisposable
{
    public const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7;
    public const byte EndStream = 0x1, EndHeaders = 0x4, Ack = 0x1;
    public const int MaxFramePayload = 16_384;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawHttp2Client(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawHttp2Client> ConnectAsync(Uri address)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var client = new RawHttp2Client(tcp);
        await client._stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        await client.WriteFrameAsync(Settings, 0, 0, []);
        return client;
    }

    /// <summary>A gRPC request's HEADERS on <paramref name="streamId"/>, literal fields without indexing.</summary>
    public Task WriteGrpcHeadersAsync(int streamId, Uri address, string path)
    {
        var block = new MemoryStream();
        foreach (var (name, value) in new[]
        {
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", address.Authority),
            ("content-type", "application/grpc"), ("te", "trailers"),
        })
        {
            block.WriteByte(0x00);
            WriteString(block, name);
            WriteString(block, value);
        }

        return WriteFrameAsync(Headers, EndHeaders, streamId, block.ToArray());
    }

    public async Task WriteFrameAsync(byte type, byte flags, int streamId, byte[] payload)
    {
        var header = new byte[9];
        header[0] = (byte)(payload.Length >> 16);
        header[1] = (byte)(payload.Length >> 8);
        header[2] = (byte)payload.Length;
        header[3] = type;
        header[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(5), streamId);
        await _stream.WriteAsync(header);
        await _stream.WriteAsync(payload);
    }

    /// <summary>The next frame, or null at end of stream or after <paramref name="timeout"/> without one.</summary>
    public async Task<(byte Type, byte Flags, int StreamId, byte[] Payload)?> ReadFrameAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            var header = new byte[9];
            await _stream.ReadExactlyAsync(header, cancel.Token);
            var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
            await _stream.ReadExactlyAsync(payload, cancel.Token);
            return (header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue, payload);
        }
        catch (Exception e) when (e is OperationCanceledException or EndOfStreamException or IOException)
        {
            return null;
        }
    }

    public void Dispose() => _tcp.Dispose();

    private static void WriteString(Stream block, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if (bytes.Length >= 127)
        {
            throw new ArgumentException("only strings of under 127 bytes are encoded", nameof(text));
        }

        block.WriteByte((byte)bytes.Length);
        block.Write(bytes);
    }
}
