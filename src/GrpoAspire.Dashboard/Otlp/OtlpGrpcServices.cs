using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using GrpoAspire.Dashboard.Otlp.Protocol;

namespace GrpoAspire.Dashboard.Otlp;

/// <summary>
/// The three OTLP collector services over gRPC, bound by hand rather than generated: the generated
/// marshaller lets a parse error escape as <c>UNKNOWN</c>, while OTLP wants <c>INVALID_ARGUMENT</c> for a
/// request that is not a valid message (never retried by exporters). Oversized messages are refused before
/// parsing by <c>MaxReceiveMessageSize</c> with <c>RESOURCE_EXHAUSTED</c>.
/// </summary>
internal sealed class OtlpTraceService(OtlpReceiver receiver)
{
    public static readonly Method<ExportTraceServiceRequest, ExportTraceServiceResponse> ExportMethod =
        OtlpGrpc.Export("opentelemetry.proto.collector.trace.v1.TraceService", ExportTraceServiceRequest.Parser, ExportTraceServiceResponse.Parser);

    public Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context) =>
        Task.FromResult(receiver.Export(request));
}

/// <inheritdoc cref="OtlpTraceService"/>
internal sealed class OtlpMetricsService(OtlpReceiver receiver)
{
    public static readonly Method<ExportMetricsServiceRequest, ExportMetricsServiceResponse> ExportMethod =
        OtlpGrpc.Export("opentelemetry.proto.collector.metrics.v1.MetricsService", ExportMetricsServiceRequest.Parser, ExportMetricsServiceResponse.Parser);

    public Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context) =>
        Task.FromResult(receiver.Export(request));
}

/// <inheritdoc cref="OtlpTraceService"/>
internal sealed class OtlpLogsService(OtlpReceiver receiver)
{
    public static readonly Method<ExportLogsServiceRequest, ExportLogsServiceResponse> ExportMethod =
        OtlpGrpc.Export("opentelemetry.proto.collector.logs.v1.LogsService", ExportLogsServiceRequest.Parser, ExportLogsServiceResponse.Parser);

    public Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context) =>
        Task.FromResult(receiver.Export(request));
}

/// <summary>Tells Grpc.AspNetCore the one unary method of an OTLP service (instead of a generated BindService).</summary>
internal sealed class OtlpExportMethodProvider<TService, TRequest, TResponse>(
    Method<TRequest, TResponse> method,
    Func<TService, TRequest, ServerCallContext, Task<TResponse>> export) : IServiceMethodProvider<TService>
    where TService : class
    where TRequest : class
    where TResponse : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context) =>
        context.AddUnaryMethod(method, [], (service, request, callContext) => export(service, request, callContext));
}

internal static class OtlpGrpc
{
    public static Method<TRequest, TResponse> Export<TRequest, TResponse>(
        string service, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        new(MethodType.Unary, service, "Export", Marshaller(requestParser), Marshaller(responseParser));

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser)
        where T : class, IMessage<T> =>
        Marshallers.Create(
            (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context =>
            {
                try
                {
                    return parser.ParseFrom(context.PayloadAsReadOnlySequence());
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new RpcException(new Grpc.Core.Status(StatusCode.InvalidArgument, $"not a valid OTLP {typeof(T).Name}: {e.Message}"));
                }
            });
}
