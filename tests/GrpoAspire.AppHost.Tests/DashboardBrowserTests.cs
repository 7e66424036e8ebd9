using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace GrpoAspire.AppHost.Tests;

/// <summary>
/// The AppHost running for real, watched through the Aspire Dashboard: its telemetry API and Debian's chromium
/// (Playwright) see a GRPO step's trace across trainer, generation and reward, the trainer's reward metric and the run
/// page the trainer resource links to; then SIGTERM stops everything.
/// </summary>
public sealed partial class DashboardBrowserTests(ITestOutputHelper log) : IDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private static readonly Uri Dashboard = new("http://127.0.0.1:18888/");
    private readonly string _root = Directory.CreateTempSubdirectory("grpo-apphost-live-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task TheDashboardShowsAStepsTraceAcrossTheServicesTheRewardMetricAndTheRunPage()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install it with `sudo apt-get install chromium` (bash scripts/install-deps.sh does)");
        var apiKey = Guid.NewGuid().ToString("N");
        using var host = AppHostProcess.Start(["--recipe", TestPaths.SmokeRecipe, "--max-steps", "20", "--keep-running", "--output", Path.Combine(_root, "run")],
            new Dictionary<string, string> { ["AppHost__DashboardApiKey"] = apiKey });
        try
        {
            var login = await Until(() => Task.FromResult(LoginUrl().Match(host.Output) is { Success: true } m ? m.Value : null), "the dashboard's login URL", host);
            using var telemetry = new DashboardTelemetry(Dashboard, apiKey);
            var step = await Until(async () => (await telemetry.TracesAsync()).FirstOrDefault(t =>
                t.Root == "trainer.step" && t.Services.IsSupersetOf(["trainer", "generation", "reward"])).TraceId, "a trainer.step trace spanning trainer, generation and reward", host);

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
            var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(30_000);
            await page.GotoAsync(login);

            await page.GotoAsync(new Uri(Dashboard, $"traces/detail/{step}").ToString());
            await Expect(page.GetByText("trainer.step").First).ToBeVisibleAsync();
            foreach (var service in new[] { "generation", "reward" })
            {
                await Expect(page.GetByText(new Regex($"^{service}", RegexOptions.None)).First).ToBeVisibleAsync();
            }

            await Screenshot(page, "aspire-dashboard-trace.png");

            await page.GotoAsync(new Uri(Dashboard, "metrics/resource/trainer?meter=GrpoAspire&instrument=grpo.trainer.reward").ToString());
            await Expect(page.GetByText("grpo.trainer.reward").First).ToBeVisibleAsync();
            await Screenshot(page, "aspire-dashboard-metrics.png");

            await page.GotoAsync(Dashboard.ToString());
            var runPageLink = page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Run page" }).First;
            await Expect(runPageLink).ToBeVisibleAsync();
            await Screenshot(page, "aspire-dashboard-resources.png");
            var runPage = await context.RunAndWaitForPageAsync(() => runPageLink.ClickAsync());
            await Expect(runPage.Locator("#samples h3").First).ToBeVisibleAsync();
            await Expect(runPage.Locator("#samples pre").First).Not.ToBeEmptyAsync();
            await Screenshot(runPage, "trainer-run-page.png");
        }
        finally
        {
            host.Terminate();
        }

        Assert.True(await host.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, host.Output);
        await host.Marker.AssertNoneLeftAsync(TimeSpan.FromSeconds(30), host.Output);
    }

    private async Task Screenshot(IPage page, string name)
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name), FullPage = true });
        log.WriteLine($"screenshot: {Path.Combine(folder, name)}");
    }

    private static async Task<T> Until<T>(Func<Task<T?>> probe, string what, AppHostProcess host, int seconds = 180)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (HttpRequestException)
            {
                // The dashboard is not up yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out after {seconds} s waiting for {what}; the AppHost's output:\n{host.Output}");
            await Task.Delay(500);
        }
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:18888/login\?t=[0-9a-f]+")]
    private static partial Regex LoginUrl();
}
