using Google.Protobuf;
using GrpoAspire.Dashboard.Otlp.Protocol;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>What the dashboard keeps is bounded whatever arrives: ring buffers per signal, cut attributes, rejected ids.</summary>
public sealed class StoreBoundsTests
{
    [Fact]
    public async Task OnlyTheNewestSpansAreKeptAndATraceLeavesWithItsLastSpan()
    {
        await using var dashboard = await TestDashboards.StartAsync(new DashboardOptions { MaxSpans = 11 });
        using var api = new DashboardApiClient(dashboard);

        // 12 traces of 2 spans, 11 kept: traces 0-5 go whole, trace 6 keeps its child only.
        for (var trace = 0; trace < 12; trace++)
        {
            await PostAsync(dashboard, "v1/traces", OtlpRequests.Traces("trainer",
                OtlpRequests.Span(trace, 1, $"step-{trace}", startMs: trace * 100),
                OtlpRequests.Span(trace, 2, $"optimize-{trace}", parent: 1, startMs: (trace * 100) + 1)));
        }

        var traces = await api.TracesAsync();
        Assert.Equal(11, dashboard.Store.Traces.SpanCount);
        Assert.Equal(6, traces.Count);
        Assert.Equal(["step-11", "step-10", "step-9", "step-8", "step-7", "optimize-6"], traces.Select(trace => trace.RootName));
        Assert.Equal(1, traces[^1].SpanCount);
        Assert.Null(await api.TraceAsync(Convert.ToHexStringLower(OtlpRequests.TraceId(0).Span)));
    }

    [Fact]
    public async Task OnlyTheNewestMetricPointsAndLogRecordsAreKept()
    {
        await using var dashboard = await TestDashboards.StartAsync(new DashboardOptions { MaxMetricPoints = 5, MaxLogRecords = 3 });
        using var api = new DashboardApiClient(dashboard);

        await PostAsync(dashboard, "v1/metrics", OtlpRequests.Gauge("trainer", "grpo.trainer.loss", 1, 2, 3));
        await PostAsync(dashboard, "v1/metrics", OtlpRequests.Gauge("trainer", "grpo.trainer.reward", 4, 5, 6, 7));
        await PostAsync(dashboard, "v1/logs", OtlpRequests.Logs("trainer", "a", "b", "c", "d", "e"));

        var metrics = await api.MetricsAsync();
        Assert.Equal(5, metrics.Sum(metric => metric.Points));
        Assert.Equal(1, Assert.Single(metrics, metric => metric.Name == "grpo.trainer.loss").Points);
        var reward = await api.GetAsync<Api.MetricPointsView>("api/metrics/grpo.trainer.reward");
        Assert.Equal([4.0, 5, 6, 7], reward!.Points.Select(point => point.Value!.Value));
        var logs = await api.GetAsync<Api.LogView[]>("api/logs");
        Assert.Equal(["c", "d", "e"], logs!.Select(log => log.Body));

        // A metric whose every point left disappears from the names.
        await PostAsync(dashboard, "v1/metrics", OtlpRequests.Gauge("trainer", "grpo.trainer.kl", 0.1));
        Assert.DoesNotContain(await api.MetricsAsync(), metric => metric.Name == "grpo.trainer.loss");
    }

    [Fact]
    public async Task SpansFullOfMaximalAttributesAreBoundedByTheByteBudget()
    {
        const long budget = 1024 * 1024;
        await using var dashboard = await TestDashboards.StartAsync(new DashboardOptions { MaxBytesPerSignal = budget });

        // Each span carries 64 attributes of 1,024 characters: about 130 KiB once kept.
        for (var trace = 0; trace < 20; trace++)
        {
            var span = OtlpRequests.Span(trace, 1, $"heavy-{trace}");
            for (var i = 0; i < 64; i++)
            {
                span.Attributes.Add(OtlpRequests.Attribute($"k{i}", new string('v', 1024)));
            }

            await PostAsync(dashboard, "v1/traces", OtlpRequests.Traces("trainer", span));
        }

        var kept = dashboard.Store.Traces.SpanCount;
        Assert.InRange(kept, 5, 8);
        var names = (await new DashboardApiClient(dashboard).TracesAsync()).Select(trace => trace.RootName).ToList();
        Assert.Equal(Enumerable.Range(20 - kept, kept).Reverse().Select(trace => $"heavy-{trace}"), names);
    }

    [Fact]
    public async Task LongNamesAndValuesAreCutAndExtraAttributesDropped()
    {
        await using var dashboard = await TestDashboards.StartAsync(new DashboardOptions { MaxAttributeLength = 32, MaxAttributesPerItem = 4 });
        using var api = new DashboardApiClient(dashboard);
        var span = OtlpRequests.Span(1, 1, new string('n', 10_000));
        for (var i = 0; i < 10; i++)
        {
            span.Attributes.Add(OtlpRequests.Attribute($"key{i}", new string('v', 5_000)));
        }

        span.Attributes.Add(new KeyValue { Key = "bytes", Value = new AnyValue { BytesValue = ByteString.CopyFrom(new byte[100_000]) } });
        await PostAsync(dashboard, "v1/traces", OtlpRequests.Traces(new string('s', 500), span));

        var detail = await api.TraceAsync(Assert.Single(await api.TracesAsync()).TraceId);
        var kept = Assert.Single(detail!.Spans);
        Assert.Equal(32, kept.Name.Length);
        Assert.EndsWith("…", kept.Name);
        Assert.Equal(32, kept.Service.Length);
        Assert.Equal(4, kept.Attributes.Count);
        Assert.All(kept.Attributes.Values, value => Assert.True(value.Length <= 32));
    }

    [Fact]
    public async Task SpansWithInvalidIdsAreRejectedOneByOneAsPartialSuccess()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        var shortId = OtlpRequests.Span(2, 1, "short trace id");
        shortId.TraceId = ByteString.CopyFrom(1, 2, 3);
        var zeroSpanId = OtlpRequests.Span(3, 1, "zero span id");
        zeroSpanId.SpanId = ByteString.CopyFrom(new byte[8]);

        var response = ExportTraceServiceResponse.Parser.ParseFrom(await PostAsync(dashboard, "v1/traces",
            OtlpRequests.Traces("trainer", OtlpRequests.Span(1, 1, "good"), shortId, zeroSpanId)));

        Assert.Equal(2, response.PartialSuccess.RejectedSpans);
        Assert.Contains("trace_id", response.PartialSuccess.ErrorMessage);
        Assert.Equal("good", Assert.Single(await new DashboardApiClient(dashboard).TracesAsync()).RootName);
    }

    [Fact]
    public async Task AParentCycleStillShowsEverySpanOnce()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        await PostAsync(dashboard, "v1/traces", OtlpRequests.Traces("trainer",
            OtlpRequests.Span(1, 1, "a", parent: 2),
            OtlpRequests.Span(1, 2, "b", parent: 1),
            OtlpRequests.Span(1, 3, "self", parent: 3)));

        using var api = new DashboardApiClient(dashboard);
        var detail = await api.TraceAsync(Assert.Single(await api.TracesAsync()).TraceId);

        Assert.Equal(["a", "b", "self"], detail!.Spans.Select(span => span.Name).Order());
    }

    private static async Task<byte[]> PostAsync(DashboardHost dashboard, string path, IMessage request)
    {
        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };
        using var response = await http.PostAsync(path, OtlpBoundsTests.Protobuf(request.ToByteArray()));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }
}
