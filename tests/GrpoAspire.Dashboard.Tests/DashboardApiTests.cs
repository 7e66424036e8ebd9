using System.Net;
using System.Text.Json;
using GrpoAspire.Dashboard.Api;
using GrpoAspire.Dashboard.Completions;
using GrpoAspire.Dashboard.Resources;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>The JSON API the UI polls, and the embedded UI files, over a real loopback socket.</summary>
public sealed class DashboardApiTests
{
    [Fact]
    public async Task ResourcesListTheCatalogInOrderWithAspireNames()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var api = new DashboardApiClient(dashboard);

        using var json = JsonDocument.Parse(await api.Http.GetStringAsync("api/resources"));
        var resources = json.RootElement.EnumerateArray().ToList();

        Assert.Equal(["redis", "reward", "generation", "trainer"], resources.Select(r => r.GetProperty("name").GetString()));
        Assert.Equal("executable", resources[0].GetProperty("type").GetString());
        Assert.Equal("project", resources[1].GetProperty("type").GetString());
        Assert.Equal("Running", resources[1].GetProperty("state").GetString());
        Assert.Equal("Unhealthy", resources[2].GetProperty("health").GetString());
        Assert.Equal(1, resources[2].GetProperty("restarts").GetInt32());
        Assert.Equal(4104, resources[3].GetProperty("pid").GetInt32());
        Assert.Equal("http://127.0.0.1:5101", resources[1].GetProperty("endpoints")[0].GetProperty("url").GetString());
    }

    [Fact]
    public async Task ResourceChangesShowAtTheNextRequest()
    {
        var catalog = TestDashboards.ProjectCatalog();
        await using var dashboard = await TestDashboards.StartAsync(catalog: catalog);
        using var api = new DashboardApiClient(dashboard);

        catalog.Update("trainer", trainer => trainer with { State = ResourceState.Failed, ExitCode = 3, Restarts = 2 });
        var trainer = (await api.GetAsync<ResourceView[]>("api/resources"))!.Single(r => r.Name == "trainer");

        Assert.Equal(ResourceState.Failed, trainer.State);
        Assert.Equal(3, trainer.ExitCode);
        Assert.Equal(2, trainer.Restarts);
    }

    [Fact]
    public async Task ConsoleLogsReturnTheTailOfAResourceAnd404ForAnUnknownOne()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var api = new DashboardApiClient(dashboard);

        var logs = await api.GetAsync<ConsoleLogsView>("api/resources/trainer/logs?tail=2");
        var empty = await api.GetAsync<ConsoleLogsView>("api/resources/reward/logs");
        using var unknown = await api.Http.GetAsync("api/resources/nope/logs");
        using var invalid = await api.Http.GetAsync("api/resources/trainer/logs?tail=lots");

        Assert.Equal(3, logs!.TotalLines);
        Assert.Equal(["step 1/2 reward 0.25", "warn: replica generation-1 restarted"], logs.Lines.Select(line => line.Text));
        Assert.Equal([false, true], logs.Lines.Select(line => line.IsError));
        Assert.Empty(empty!.Lines);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }

    [Fact]
    public async Task CompletionsComeNewestFirstFromTheRunFolderAndAreEmptyWithoutOne()
    {
        var run = Directory.CreateTempSubdirectory("dashboard-completions-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(run, "completion_samples"));
            await File.WriteAllTextAsync(Path.Combine(run, "completion_samples", "completion_samples.txt"),
                "\n\n==== step 1 | 3 4 -> 7 | reward 0.00 (no_answer) ====\n<think>hmm\n\n==== step 2 | 3 4 -> 7 | reward 2.00 (correct) ====\n<think>3+4</think>\n<answer>3 + 4</answer>");
            await using var dashboard = await TestDashboards.StartAsync(completions: CompletionSamplesFile.ForRun(run));
            await using var without = await TestDashboards.StartAsync();
            using var api = new DashboardApiClient(dashboard);
            using var noRun = new DashboardApiClient(without);

            var view = await api.GetAsync<CompletionsView>("api/completions");
            var none = await noRun.GetAsync<CompletionsView>("api/completions");

            Assert.True(view!.Configured);
            Assert.Equal([2, 1], view.Samples.Select(sample => sample.Step));
            Assert.Equal("step 2 | 3 4 -> 7 | reward 2.00 (correct)", view.Samples[0].Header);
            Assert.Equal("<think>3+4</think>\n<answer>3 + 4</answer>", view.Samples[0].Text);
            Assert.False(none!.Configured);
            Assert.Empty(none.Samples);
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }

    [Fact]
    public async Task TheUiIsServedFromTheAssemblyWithAContentSecurityPolicy()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var api = new DashboardApiClient(dashboard);

        using var index = await api.Http.GetAsync("/");
        var html = await index.Content.ReadAsStringAsync();
        using var script = await api.Http.GetAsync("app.js");
        using var missing = await api.Http.GetAsync("nothing.js");
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "app.js");
        revalidate.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        using var notModified = await api.Http.SendAsync(revalidate);

        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("data-testid=\"resources-table\"", html);
        Assert.Contains("script-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task InfoTellsTheOtlpAddressesAndWhatIsHeld()
    {
        await using var dashboard = await TestDashboards.StartAsync(new DashboardOptions { MaxSpans = 123 });
        using var api = new DashboardApiClient(dashboard);

        var info = await api.GetAsync<DashboardInfo>("api/info");

        Assert.Equal(dashboard.OtlpGrpcUrl.ToString(), info!.OtlpGrpcUrl);
        Assert.Equal(dashboard.OtlpHttpUrl.ToString(), info.OtlpHttpUrl);
        Assert.Equal(123, info.MaxSpans);
        Assert.Equal(0, info.Spans);
    }

    [Fact]
    public async Task UnknownTracesAndMetricsAre404()
    {
        await using var dashboard = await TestDashboards.StartAsync();
        using var api = new DashboardApiClient(dashboard);

        using var trace = await api.Http.GetAsync("api/traces/0123456789abcdef0123456789abcdef");
        using var metric = await api.Http.GetAsync("api/metrics/grpo.trainer.reward");
        var curves = await api.CurvesAsync();

        Assert.Equal(HttpStatusCode.NotFound, trace.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, metric.StatusCode);
        Assert.Empty(curves.Curves);
        Assert.Equal("grpo.trainer.reward", curves.Definitions[0].Metric);
    }
}
