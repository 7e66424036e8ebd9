using GrpoAspire.Dashboard.Completions;
using Microsoft.Playwright;
using OpenTelemetry.Exporter;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>
/// The web UI in a real headless browser: Debian's chromium driven by Playwright (the driver ships in the
/// Microsoft.Playwright package; no browser is downloaded). A missing chromium fails the test, never skips it:
/// CI installs it through scripts/install-deps.sh.
/// </summary>
public sealed class BrowserTests(ITestOutputHelper output)
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const float TimeoutMs = 15_000;

    [Fact]
    public async Task TheUiShowsResourcesTheStepTraceAcrossThreeServicesAndARewardCurve()
    {
        Assert.True(File.Exists(ChromiumPath),
            $"{ChromiumPath} is missing: the browser test needs Debian's chromium (sudo apt-get install chromium, or bash scripts/install-deps.sh)");

        using var run = new TemporaryRun();
        await using var dashboard = await TestDashboards.StartAsync(completions: CompletionSamplesFile.ForRun(run.Directory));
        TelemetrySender.SendStepTrace(dashboard.OtlpGrpcUrl, OtlpExportProtocol.Grpc);
        TelemetrySender.SendTrainerMetrics(dashboard.OtlpGrpcUrl, OtlpExportProtocol.Grpc, [(1, 0.1), (2, 0.35), (3, 0.3), (4, 0.6)]);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // CI runs as root, where chromium refuses its sandbox.
            Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        var pageErrors = new List<string>();
        page.PageError += (_, error) => pageErrors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                pageErrors.Add($"{message.Text} ({message.Location})");
            }
        };
        page.SetDefaultTimeout(TimeoutMs);
        await page.GotoAsync(dashboard.UiUrl.ToString());

        // Resources, in the catalog's order, with state and health.
        var resourceRows = page.Locator("[data-testid=resource-row]");
        await Expect(resourceRows).ToHaveCountAsync(4);
        Assert.Equal(["redis", "reward", "generation", "trainer"], await page.Locator("[data-testid=resource-row] .resource-name").AllTextContentsAsync());
        await Expect(page.Locator("[data-resource=generation] .resource-health")).ToHaveTextAsync("Unhealthy");
        await Expect(page.Locator("[data-resource=reward] .resource-endpoints")).ToContainTextAsync("grpc: http://127.0.0.1:5101");
        await SaveScreenshotAsync(page, "dashboard-resources.png");

        // Console logs of the trainer, stderr marked.
        await page.Locator("[data-resource=trainer] .resource-name").ClickAsync();
        await Expect(page.Locator("[data-testid=panel-console]")).ToBeVisibleAsync();
        await Expect(page.Locator("#console-output .console-line")).ToHaveCountAsync(3);
        await Expect(page.Locator("#console-output .console-line.stderr")).ToContainTextAsync("replica generation-1 restarted");

        // The step's trace: one row, then a waterfall with spans of the three services.
        await page.GetByTestId("tab-traces").ClickAsync();
        var traceRow = page.Locator("[data-testid=trace-row]");
        await Expect(traceRow).ToHaveCountAsync(1);
        await Expect(traceRow.Locator(".trace-root")).ToHaveTextAsync("trainer.step");
        await traceRow.ClickAsync();
        var spans = page.Locator("[data-testid=waterfall] [data-testid=span-row]");
        await Expect(spans).ToHaveCountAsync(6);
        var services = new HashSet<string>();
        foreach (var row in await spans.AllAsync())
        {
            services.Add((await row.GetAttributeAsync("data-service"))!);
        }

        Assert.Equal(["generation", "reward", "trainer"], services.Order());
        var barColors = await page.EvalOnSelectorAllAsync<string[]>(
            "[data-testid=span-bar]", "bars => [...new Set(bars.map(b => getComputedStyle(b).backgroundColor))]");
        Assert.Equal(3, barColors.Length);
        await page.Locator("[data-testid=span-row][data-service=reward]").ClickAsync();
        await Expect(page.GetByTestId("span-attributes")).ToContainTextAsync("grpo.completions");
        await SaveScreenshotAsync(page, "dashboard.png");

        // Training curves: an SVG per metric, the reward one with a point per step.
        await page.GetByTestId("tab-metrics").ClickAsync();
        var rewardPoints = page.Locator("svg[data-metric='grpo.trainer.reward'] circle.curve-point");
        await Expect(rewardPoints).ToHaveCountAsync(4);
        await Expect(page.Locator("svg[data-metric='grpo.trainer.reward'] polyline.curve-line")).ToHaveCountAsync(1);
        await Expect(page.Locator("svg[data-metric='grpo.trainer.kl'] circle.curve-point")).ToHaveCountAsync(4);
        await page.Locator("[data-testid=metric-row][data-metric='grpo.trainer.step_seconds']").ClickAsync();
        await Expect(page.Locator("[data-testid=metric-chart] svg[data-metric='grpo.trainer.step_seconds'] circle.curve-point").First).ToBeVisibleAsync();
        await SaveScreenshotAsync(page, "dashboard-curves.png");

        // Completion samples appended by a trainer show up at the next refresh (every 2 s).
        await page.GetByTestId("tab-completions").ClickAsync();
        await Expect(page.GetByText("No completion samples yet.")).ToBeVisibleAsync();
        run.AppendSample(step: 4, "(<answer>(25 - 5) * 2</answer>");
        await Expect(page.Locator("[data-testid=completion][data-step='4']")).ToContainTextAsync("(25 - 5) * 2");

        Assert.Empty(pageErrors);
    }

    private async Task SaveScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotFolder(), name);
        // A full-page shot of a scrolled page would draw the sticky header halfway down.
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 0);
        output.WriteLine($"screenshot: {path}");
    }

    /// <summary>artifacts/screenshots under the repository root (beside GrpoAspire.sln), else under the test's bin folder.</summary>
    private static string ScreenshotFolder()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        var folder = Path.Combine(directory?.FullName ?? AppContext.BaseDirectory, "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>A run folder with the trainer's completion_samples/completion_samples.txt, deleted afterwards.</summary>
    private sealed class TemporaryRun : IDisposable
    {
        public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("dashboard-run-").FullName;

        public void AppendSample(int step, string completion)
        {
            var folder = Path.Combine(Directory, "completion_samples");
            System.IO.Directory.CreateDirectory(folder);
            File.AppendAllText(
                Path.Combine(folder, "completion_samples.txt"),
                $"\n\n==== step {step} | 25 5 2 -> 40 | reward 2.00 (correct) ====\n<think>25 minus 5 is 20, times 2 is 40</think>\n<answer>{completion}</answer>");
        }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
