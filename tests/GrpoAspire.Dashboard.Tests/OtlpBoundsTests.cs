using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using GrpoAspire.Dashboard.Otlp.Protocol;
using RpcStatus = GrpoAspire.Dashboard.Otlp.Protocol.Rpc.Status;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>
/// Hostile or broken senders: garbage and oversized payloads over both transports get a clear error, never a
/// crash, and the dashboard keeps accepting good requests afterwards.
/// </summary>
public sealed class OtlpBoundsTests
{
    private const int SmallLimit = 64 * 1024;
    private const string TraceService = "opentelemetry.proto.collector.trace.v1.TraceService";
    private static readonly byte[] Garbage = Enumerable.Repeat((byte)0xFF, 64).ToArray();

    public static TheoryData<string> GrpcServices =>
    [
        TraceService,
        "opentelemetry.proto.collector.metrics.v1.MetricsService",
        "opentelemetry.proto.collector.logs.v1.LogsService",
    ];

    public static TheoryData<string> HttpPaths => ["v1/traces", "v1/metrics", "v1/logs"];

    [Theory]
    [MemberData(nameof(GrpcServices))]
    public async Task GarbageOverGrpcIsInvalidArgument(string service)
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var channel = GrpcChannel.ForAddress(dashboard.OtlpGrpcUrl);

        var error = await Assert.ThrowsAsync<RpcException>(() => SendRawAsync(channel, service, Garbage));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("not a valid OTLP", error.Status.Detail);
        await AssertStillAcceptsAsync(dashboard);
    }

    [Fact]
    public async Task OversizedMessageOverGrpcIsResourceExhaustedBeforeParsing()
    {
        await using var dashboard = await TestDashboards.StartAsync(new DashboardOptions { MaxMessageBytes = SmallLimit });
        using var channel = GrpcChannel.ForAddress(dashboard.OtlpGrpcUrl);
        var request = OtlpRequests.Traces("big", OtlpRequests.Span(1, 1, new string('x', SmallLimit * 2))).ToByteArray();

        var error = await Assert.ThrowsAsync<RpcException>(() => SendRawAsync(channel, TraceService, request));

        Assert.True(error.StatusCode == StatusCode.ResourceExhausted, error.ToString());
        Assert.Empty(await new DashboardApiClient(dashboard).TracesAsync());
        await AssertStillAcceptsAsync(dashboard);
    }

    [Theory]
    [MemberData(nameof(HttpPaths))]
    public async Task GarbageOverHttpIs400WithAnRpcStatusBody(string path)
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };

        using var response = await http.PostAsync(path, Protobuf(Garbage));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = RpcStatus.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);
        Assert.Contains("not a valid OTLP", status.Message);
        await AssertStillAcceptsAsync(dashboard);
    }

    [Fact]
    public async Task OversizedBodiesOverHttpAre413WithOrWithoutLengthAndAfterGzip()
    {
        await using var dashboard = await TestDashboards.StartAsync(new DashboardOptions { MaxMessageBytes = SmallLimit });
        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };
        var big = OtlpRequests.Traces("big", OtlpRequests.Span(1, 1, new string('x', SmallLimit * 2))).ToByteArray();

        using (var declared = await http.PostAsync("v1/traces", Protobuf(big)))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
            Assert.Equal((int)StatusCode.ResourceExhausted, RpcStatus.Parser.ParseFrom(await declared.Content.ReadAsByteArrayAsync()).Code);
        }

        var chunked = new StreamContent(new MemoryStream(big));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/traces") { Content = chunked })
        {
            request.Headers.TransferEncodingChunked = true;
            using var undeclared = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, undeclared.StatusCode);
        }

        // 10 MB of zeroes gzip to ~10 KB: the limit counts what the body inflates to.
        var bomb = new MemoryStream();
        await using (var gzip = new GZipStream(bomb, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(new byte[10 * 1024 * 1024]);
        }

        var compressed = Protobuf(bomb.ToArray());
        compressed.Headers.ContentEncoding.Add("gzip");
        using (var inflated = await http.PostAsync("v1/traces", compressed))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, inflated.StatusCode);
        }

        Assert.Empty(await new DashboardApiClient(dashboard).TracesAsync());
        await AssertStillAcceptsAsync(dashboard);
    }

    [Fact]
    public async Task GzipBodiesWithinTheLimitAreAccepted()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };
        var zipped = new MemoryStream();
        await using (var gzip = new GZipStream(zipped, CompressionLevel.Fastest, leaveOpen: true))
        {
            OtlpRequests.Traces("zipped", OtlpRequests.Span(7, 1, "compressed")).WriteTo(gzip);
        }

        var content = Protobuf(zipped.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await http.PostAsync("v1/traces", content);

        response.EnsureSuccessStatusCode();
        Assert.Equal("compressed", Assert.Single(await new DashboardApiClient(dashboard).TracesAsync()).RootName);
    }

    [Fact]
    public async Task OtherContentTypesAndEncodingsAre415()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };

        using var json = await http.PostAsync("v1/traces", new StringContent("{\"resourceSpans\":[]}", System.Text.Encoding.UTF8, "application/json"));
        var brotli = Protobuf(OtlpRequests.Traces("x").ToByteArray());
        brotli.Headers.ContentEncoding.Add("br");
        using var encoded = await http.PostAsync("v1/traces", brotli);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, encoded.StatusCode);
        await AssertStillAcceptsAsync(dashboard);
    }

    [Fact]
    public async Task NestingDeeperThanTheParserAllowsIsInvalidArgument()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };
        var value = new AnyValue { StringValue = "leaf" };
        for (var i = 0; i < 200; i++)
        {
            value = new AnyValue { ArrayValue = new ArrayValue { Values = { value } } };
        }

        var span = OtlpRequests.Span(1, 1, "deep");
        span.Attributes.Add(new KeyValue { Key = "deep", Value = value });
        using var response = await http.PostAsync("v1/traces", Protobuf(OtlpRequests.Traces("deep", span).ToByteArray()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertStillAcceptsAsync(dashboard);
    }

    internal static async Task<byte[]> SendRawAsync(GrpcChannel channel, string service, byte[] payload)
    {
        var bytes = Marshallers.Create(static (byte[] b) => b, static b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, service, "Export", bytes, bytes);
        return await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), payload);
    }

    internal static ByteArrayContent Protobuf(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }

    /// <summary>After whatever came before, a good request over each transport is still kept.</summary>
    private static async Task AssertStillAcceptsAsync(DashboardHost dashboard)
    {
        using var channel = GrpcChannel.ForAddress(dashboard.OtlpGrpcUrl);
        var grpc = OtlpRequests.Traces("after", OtlpRequests.Span(901, 1, "after-grpc")).ToByteArray();
        var answer = ExportTraceServiceResponse.Parser.ParseFrom(await SendRawAsync(channel, TraceService, grpc));
        Assert.Null(answer.PartialSuccess);

        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };
        using var response = await http.PostAsync("v1/traces", Protobuf(OtlpRequests.Traces("after", OtlpRequests.Span(902, 1, "after-http")).ToByteArray()));
        response.EnsureSuccessStatusCode();
        Assert.Equal(OtlpHttpContentType, response.Content.Headers.ContentType?.MediaType);

        var names = (await new DashboardApiClient(dashboard).TracesAsync()).Select(trace => trace.RootName).ToList();
        Assert.Contains("after-grpc", names);
        Assert.Contains("after-http", names);
    }

    private const string OtlpHttpContentType = "application/x-protobuf";
}
