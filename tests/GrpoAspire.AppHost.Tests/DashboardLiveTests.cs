using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace GrpoAspire.AppHost.Tests;

/// <summary>
/// The AppHost running for real, watched through its dashboard: the JSON API and Debian's chromium (Playwright) see
/// the services healthy and the traces of both steps across the three services; then Ctrl+C (SIGINT) stops it all.
/// </summary>
public sealed partial class DashboardLiveTests(ITestOutputHelper output) : IDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private readonly string _run = Directory.CreateTempSubdirectory("grpo-apphost-live-").FullName;

    public void Dispose() => Directory.Delete(_run, recursive: true);

    [Fact]
    public async Task WhileItRunsTheDashboardShowsHealthyServicesAndBothStepTracesThenCtrlCStopsEverything()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install it with `sudo apt-get install chromium` (bash scripts/install-deps.sh does)");
        var start = AppHostProcessTests.AppHostStart(["--recipe", Path.Combine(AppHostProcessTests.RepoRoot(), "recipes", "smoke-cpu.yaml"), "--keep-running", "--max-steps", "2", "--dashboard-port", "0", "--output", Path.Combine(_run, "run")]);
        using var process = Process.Start(start)!;
        var log = new StringBuilder();
        var dashboard = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
            }

            if (e.Data.StartsWith("[apphost] dashboard: ", StringComparison.Ordinal))
            {
                dashboard.TrySetResult(new Uri(e.Data["[apphost] dashboard: ".Length..]));
            }
        };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ui = await dashboard.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using var http = new HttpClient { BaseAddress = ui, Timeout = TimeSpan.FromSeconds(5) };

            // The API: four resources running and healthy, then two step traces spanning the three services.
            await Until(async () =>
            {
                var resources = await http.GetFromJsonAsync<JsonElement>("api/resources");
                return resources.EnumerateArray().Count(r => r.GetProperty("state").GetString() == "Running" && r.GetProperty("health").GetString() == "Healthy") == 4;
            }, "four healthy resources", log);
            await Until(async () =>
            {
                var traces = await http.GetFromJsonAsync<JsonElement>("api/traces");
                return StepTraces(traces).Count() >= 2;
            }, "two trainer.step traces with spans of trainer, generation and reward", log);

            // The browser sees the same.
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
            page.SetDefaultTimeout(15_000);
            await page.GotoAsync(ui.ToString());
            await Expect(page.Locator("[data-testid=resource-row]")).ToHaveCountAsync(4);
            Assert.Equal(["redis", "reward", "trainer", "generation"], await page.Locator("[data-testid=resource-row] .resource-name").AllTextContentsAsync());
            foreach (var name in new[] { "redis", "reward", "trainer", "generation" })
            {
                await Expect(page.Locator($"[data-resource={name}] .resource-health")).ToHaveTextAsync("Healthy");
            }

            await page.GetByTestId("tab-traces").ClickAsync();
            var stepRow = page.Locator("[data-testid=trace-row]").Filter(new LocatorFilterOptions { Has = page.Locator(".trace-root", new PageLocatorOptions { HasTextString = "trainer.step" }) }).First;
            await stepRow.ClickAsync();
            var spans = page.Locator("[data-testid=waterfall] [data-testid=span-row]");
            await Expect(spans.First).ToBeVisibleAsync();
            var services = new HashSet<string>();
            foreach (var row in await spans.AllAsync())
            {
                services.Add((await row.GetAttributeAsync("data-service"))!);
            }

            Assert.Superset(new HashSet<string> { "trainer", "generation", "reward" }, services);
            await Screenshot(page, "apphost-dashboard-trace.png");
            await page.GetByTestId("tab-metrics").ClickAsync();
            await Expect(page.Locator("svg[data-metric='grpo.trainer.reward'] circle.curve-point").First).ToBeVisibleAsync();
            await Screenshot(page, "apphost-dashboard-curves.png");
        }
        finally
        {
            // Ctrl+C: the AppHost stops every resource and exits 0. A test run started in the background by a
            // non-interactive shell (`cmd &`, nohup) passes SIGINT on ignored, and .NET keeps an inherited ignore (a
            // background job is not meant to see Ctrl+C): there it sends SIGTERM, which the AppHost handles alike.
            _ = Kill(process.Id, SigIntIgnored() ? 15 : 2);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                lock (log)
                {
                    Assert.Fail($"the AppHost did not exit within 60 s of Ctrl+C; its output:\n{log}");
                }
            }
        }

        string text;
        lock (log)
        {
            text = log.ToString();
        }

        Assert.True(process.ExitCode == 0, text);
        Assert.Contains("[apphost] all resources stopped", text, StringComparison.Ordinal);
        var pids = AppHostProcessTests.StartedPid().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(4, pids.Length);
        Assert.All(pids, pid => Assert.False(AppHostProcessTests.IsAlive(pid), $"process {pid} outlived the AppHost"));
    }

    private static IEnumerable<JsonElement> StepTraces(JsonElement traces) =>
        traces.EnumerateArray().Where(t => t.GetProperty("rootName").GetString() == "trainer.step"
            && new[] { "trainer", "generation", "reward" }.All(s => t.GetProperty("services").EnumerateArray().Any(x => x.GetString() == s)));

    private static async Task Until(Func<Task<bool>> condition, string what, StringBuilder log)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                lock (log)
                {
                    Assert.Fail($"no {what} after 2 minutes:\n{log}");
                }
            }

            await Task.Delay(250);
        }
    }

    private async Task Screenshot(IPage page, string name)
    {
        var folder = Path.Combine(AppHostProcessTests.RepoRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
    }

    /// <summary>Whether this process (and so the AppHost it starts) ignores SIGINT: bit 2 of SigIgn in /proc/self/status.</summary>
    private static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && (ulong.Parse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & 0x2UL) != 0;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
