using System.IO.Compression;
using Google.Protobuf;
using GrpoAspire.Dashboard.Otlp.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RpcStatus = GrpoAspire.Dashboard.Otlp.Protocol.Rpc.Status;

namespace GrpoAspire.Dashboard.Otlp;

/// <summary>
/// OTLP/HTTP with binary protobuf bodies (the OTel SDKs' <c>http/protobuf</c>): <c>POST /v1/traces</c>,
/// <c>/v1/metrics</c>, <c>/v1/logs</c>. The body is read into a buffer of at most the configured size
/// (gzip included, counted after decompression); errors answer with a protobuf <c>google.rpc.Status</c>
/// as the specification asks: 400 for a body that does not parse, 413 for one too large, 415 for a
/// content type or encoding other than protobuf and gzip.
/// </summary>
internal static class OtlpHttpEndpoints
{
    public const string ProtobufContentType = "application/x-protobuf";
    private const int InvalidArgument = 3;
    private const int ResourceExhausted = 8;

    /// <summary>Most bytes of a too-large body read and dropped before the 413 (see <see cref="TooLargeAsync"/>).</summary>
    private const long DrainBytes = 16L * 1024 * 1024;

    public static void MapOtlpHttp(this IEndpointRouteBuilder endpoints, OtlpReceiver receiver, int maxMessageBytes)
    {
        endpoints.MapPost("/v1/traces", (HttpContext context) =>
            HandleAsync(context, ExportTraceServiceRequest.Parser, receiver.Export, maxMessageBytes));
        endpoints.MapPost("/v1/metrics", (HttpContext context) =>
            HandleAsync(context, ExportMetricsServiceRequest.Parser, receiver.Export, maxMessageBytes));
        endpoints.MapPost("/v1/logs", (HttpContext context) =>
            HandleAsync(context, ExportLogsServiceRequest.Parser, receiver.Export, maxMessageBytes));
    }

    private static async Task HandleAsync<TRequest, TResponse>(
        HttpContext context, MessageParser<TRequest> parser, Func<TRequest, TResponse> export, int maxMessageBytes)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        var request = context.Request;
        if (!IsProtobuf(request.ContentType))
        {
            await ErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, InvalidArgument,
                $"Content-Type must be {ProtobufContentType} (OTLP/HTTP JSON is not served)");
            return;
        }

        var encoding = request.Headers.ContentEncoding.ToString();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (encoding.Length > 0 && !gzip && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, InvalidArgument, "Content-Encoding must be gzip or none");
            return;
        }

        if (request.ContentLength > maxMessageBytes)
        {
            await TooLargeAsync(context, maxMessageBytes);
            return;
        }

        byte[]? body;
        try
        {
            body = await ReadBoundedAsync(request.Body, gzip, maxMessageBytes, context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, InvalidArgument, "the body is not valid gzip");
            return;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            body = null;
        }

        if (body is null)
        {
            await TooLargeAsync(context, maxMessageBytes);
            return;
        }

        TRequest message;
        try
        {
            message = parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, InvalidArgument, $"not a valid OTLP {typeof(TRequest).Name}: {e.Message}");
            return;
        }

        var response = export(message);
        context.Response.ContentType = ProtobufContentType;
        await context.Response.Body.WriteAsync(response.ToByteArray(), context.RequestAborted);
    }

    /// <summary>The whole body (decompressed when <paramref name="gzip"/>), or null when it has more than <paramref name="maxBytes"/>.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream body, bool gzip, int maxBytes, CancellationToken cancellationToken)
    {
        // The request body belongs to the server: only the decompressing wrapper is ours to dispose.
        await using var unzip = gzip ? new GZipStream(body, CompressionMode.Decompress, leaveOpen: true) : null;
        var source = unzip ?? body;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await source.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Answers 413. A client still sending the body when the answer comes and the connection closes gets a broken
    /// pipe instead of the 413, so the rest of a body of a bounded size (<see cref="DrainBytes"/>) is read and
    /// dropped first; a larger one is cut off (the connection closes, as for any request that does not stop).
    /// </summary>
    private static async Task TooLargeAsync(HttpContext context, int maxMessageBytes)
    {
        var request = context.Request;
        if (request.ContentLength is not > DrainBytes)
        {
            try
            {
                var chunk = new byte[16 * 1024];
                long drained = 0;
                int read;
                while (drained <= DrainBytes && (read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
                {
                    drained += read;
                }
            }
            catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
            {
                // The client went away or the server's own body limit cut it: the answer below is all that is left to do.
            }
        }

        context.Response.Headers.Connection = "close";
        await ErrorAsync(context, StatusCodes.Status413PayloadTooLarge, ResourceExhausted, TooLarge(maxMessageBytes));
    }

    private static bool IsProtobuf(string? contentType) =>
        contentType is not null
        && contentType.Split(';', 2)[0].Trim().Equals(ProtobufContentType, StringComparison.OrdinalIgnoreCase);

    private static string TooLarge(int maxBytes) => $"the request is larger than the {maxBytes} bytes this dashboard accepts";

    private static Task ErrorAsync(HttpContext context, int httpStatus, int rpcCode, string message)
    {
        context.Response.StatusCode = httpStatus;
        context.Response.ContentType = ProtobufContentType;
        var status = new RpcStatus { Code = rpcCode, Message = message };
        return context.Response.Body.WriteAsync(status.ToByteArray(), context.RequestAborted).AsTask();
    }
}
