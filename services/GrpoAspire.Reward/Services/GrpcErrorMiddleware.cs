using System.Globalization;
using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace GrpoAspire.Reward.Services;

/// <summary>
/// Outside Development, turns the <c>UNKNOWN</c> status gRPC gives any exception that is not an
/// <see cref="RpcException"/> into one without exception text: <c>INVALID_ARGUMENT</c> for a message that is not
/// protobuf (thrown while gRPC deserializes, before any handler or interceptor runs), <c>INTERNAL</c> otherwise. gRPC has
/// logged the exception already ("Error when executing service method"), so the detail stays in the service's log.
/// </summary>
/// <remarks>
/// gRPC writes the status into the response headers (a trailers-only response) or trailers when the call ends, and
/// Kestrel sends them only after the middleware returns, so they can still be rewritten here.
/// </remarks>
internal sealed class GrpcErrorMiddleware(RequestDelegate next)
{
    private const string StatusHeader = "grpc-status";
    private const string MessageHeader = "grpc-message";

    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        var call = context.Features.Get<IServerCallContextFeature>()?.ServerCallContext;
        if (call is null || call.Status.StatusCode != StatusCode.Unknown)
        {
            return;
        }

        var status = call.Status.DebugException is InvalidProtocolBufferException
            ? new Status(StatusCode.InvalidArgument, $"the request to {call.Method} is not a valid protobuf message")
            : new Status(StatusCode.Internal, $"{call.Method} failed inside the reward service; its log has the detail");
        var destination = context.Response.HasStarted ? context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers : context.Response.Headers;
        if (destination is not null && destination.ContainsKey(StatusHeader))
        {
            destination[StatusHeader] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
            destination[MessageHeader] = status.Detail;
        }
    }
}
