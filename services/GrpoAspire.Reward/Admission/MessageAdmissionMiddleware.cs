using System.IO.Pipelines;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Reward.Options;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;

namespace GrpoAspire.Reward.Admission;

/// <summary>
/// Puts an <see cref="AdmissionPipeReader"/> under every <c>grpo.v1.RewardService</c> call, so its messages are
/// admitted against the <see cref="MessageBudget"/> before gRPC buffers them, and gives their bytes back when the call
/// ends. Health checks and other endpoints pass untouched.
/// </summary>
internal sealed class MessageAdmissionMiddleware(RequestDelegate next, MessageBudget budget, IOptions<RewardOptions> options)
{
    private readonly int _maxMessageBytes = options.Value.MaxReceiveMessageBytes;
    private readonly TimeSpan _receiveTimeout = TimeSpan.FromSeconds(options.Value.MessageReceiveSeconds);

    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null || method.ServiceName != RewardService.Descriptor.FullName)
        {
            await next(context);
            return;
        }

        // Kestrel aborts a whole HTTP/2 connection when a request body arrives slower than its minimum rate (240 B/s after
        // 5 s): a starved caller would lose its connection, and the status of its call with it. The admission reader
        // bounds every wait that matters instead (Reward:MessageReceiveSeconds).
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        var body = context.Request.BodyReader;
        var reader = new AdmissionPipeReader(
            body, budget, _maxMessageBytes, _receiveTimeout, streaming: method.Type != MethodType.Unary);
        context.Features.Set<IRequestBodyPipeFeature>(new BodyPipe(reader));
        try
        {
            await next(context);
        }
        finally
        {
            reader.ReleaseAll();
        }

        if (reader.Refused)
        {
            await AnswerAndDrainAsync(context, body);
        }
    }

    /// <summary>
    /// Sends a refused call's status now and reads the rest of its body away, holding nothing, until the caller ends
    /// or resets the stream or the receive timeout passes. Left to Kestrel, the stream would be forgotten 5 s after the
    /// call ended, and a frame the caller sent later, as a starved client does, would be a connection error: the
    /// connection reset, and the caller would lose the status it had not read yet.
    /// </summary>
    private async Task AnswerAndDrainAsync(HttpContext context, PipeReader body)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(_receiveTimeout);
        try
        {
            await context.Response.CompleteAsync();
            while (true)
            {
                var result = await body.ReadAsync(timeout.Token);
                body.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The caller reset the stream (as a gRPC client does once it has the status), or the timeout passed.
        }
        finally
        {
            await body.CompleteAsync();
        }
    }

    private sealed class BodyPipe(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }
}
