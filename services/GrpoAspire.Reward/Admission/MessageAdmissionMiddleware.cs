using System.IO.Pipelines;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Reward.Options;
using Microsoft.AspNetCore.Http.Features;
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

        var reader = new AdmissionPipeReader(
            context.Request.BodyReader, budget, _maxMessageBytes, _receiveTimeout, streaming: method.Type != MethodType.Unary);
        context.Features.Set<IRequestBodyPipeFeature>(new BodyPipe(reader));
        try
        {
            await next(context);
        }
        finally
        {
            reader.ReleaseAll();
        }
    }

    private sealed class BodyPipe(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }
}
