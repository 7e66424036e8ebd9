namespace GrpoAspire.AppHost.Tests;

/// <summary>The AppHost run as users run it (its built program), with the Aspire Dashboard, real redis-server and services.</summary>
public sealed class AppHostProcessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("grpo-apphost-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task TheSmokeRecipeRunsTwoStepsExitsZeroAndLeavesNoProcessBehind()
    {
        var output = Path.Combine(_root, "run");
        using var host = AppHostProcess.Start(["--recipe", TestPaths.SmokeRecipe, "--max-steps", "2", "--exit-when-done", "--output", output],
            new Dictionary<string, string> { ["AppHost__DashboardApiKey"] = Guid.NewGuid().ToString("N") });
        var exitCode = await host.WaitForExitAsync(TimeSpan.FromMinutes(4));
        Assert.True(exitCode == 0, host.Output);
        Assert.Contains("Login to the dashboard at http://127.0.0.1:18888/login?t=", host.Output, StringComparison.Ordinal);
        Assert.Contains("[trainer] ", host.Output, StringComparison.Ordinal);
        Assert.Contains("step 2/2", host.Output, StringComparison.Ordinal);
        Assert.Contains($"[apphost] training finished after", host.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "checkpoint-2", "model.safetensors")));
        // redis-server, the services, DCP and the dashboard.
        await host.Marker.AssertNoneLeftAsync(TimeSpan.FromSeconds(30), host.Output);
    }

    [Fact]
    public async Task TheSampleRewardServiceFromSamplesScoresTheRunInPlaceOfTheBuiltInOne()
    {
        // The second task's recipe, cut to one small step without evaluations.
        var recipe = Path.Combine(_root, "nearest.yaml");
        var yaml = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "recipes", "countdown-nearest-cpu.yaml"));
        foreach (var (key, value) in new[]
        {
            ("max_steps", "1"), ("save_steps", "1"), ("per_device_train_batch_size", "4"), ("max_completion_length", "160"),
            ("eval_on_start", "false"), ("eval_strategy", "no"),
        })
        {
            var line = new System.Text.RegularExpressions.Regex($"(?m)^{key}: .*$");
            Assert.Matches(line, yaml);
            yaml = line.Replace(yaml, $"{key}: {value}");
        }

        File.WriteAllText(recipe, yaml);
        var output = Path.Combine(_root, "run");
        var sample = Path.Combine(TestPaths.RepoRoot, "samples", "NearestRewardService", "NearestRewardService.csproj");
        using var host = AppHostProcess.Start(["--recipe", recipe, "--reward-project", sample, "--output", output]);
        Assert.True(await host.WaitForExitAsync(TimeSpan.FromMinutes(4)) == 0, host.Output);
        Assert.Contains("[reward] info: GrpoAspire.Samples.NearestReward.SampleRewardService[0] sample reward service: scored", host.Output, StringComparison.Ordinal);
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadLines(Path.Combine(output, "metrics.jsonl")).First());
        var rewards = metrics.RootElement.EnumerateObject().Where(p => p.Name.StartsWith("rewards/", StringComparison.Ordinal));
        Assert.Equal(["rewards/format", "rewards/closeness"], rewards.Select(p => p.Name).ToArray());
        await host.Marker.AssertNoneLeftAsync(TimeSpan.FromSeconds(30), host.Output);
    }

    /// <summary>A reward service the AppHost does not run (started here, as one in another language would be).</summary>
    [Fact]
    public async Task WithRewardUrlTheReplicasScoreThroughARewardServiceRunningElsewhere()
    {
        await using var reward = await ServiceProcess.StartAsync("reward", "GrpoAspire.Reward", new Dictionary<string, string>
        {
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        });
        var output = Path.Combine(_root, "run");
        using var host = AppHostProcess.Start(["--recipe", TestPaths.SmokeRecipe, "--max-steps", "1", "--reward-url", reward.GrpcAddress.ToString(), "--output", output]);

        Assert.True(await host.WaitForExitAsync(TimeSpan.FromMinutes(4)) == 0, host.Output);
        Assert.Contains("/grpo.v1.RewardService/Score", reward.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("[reward] ", host.Output, StringComparison.Ordinal);
        Assert.Contains("rewards/format", File.ReadLines(Path.Combine(output, "metrics.jsonl")).First(), StringComparison.Ordinal);
        await host.Marker.AssertNoneLeftAsync(TimeSpan.FromSeconds(30), host.Output);
        Assert.False(reward.HasExited);
    }

    [Fact]
    public async Task ATrainerFailedOnBadInputEndsTheRunWithItsErrorOnTheConsoleAndExitCodeTwo()
    {
        var dataset = Path.Combine(_root, "no-such-tasks.jsonl");
        using var host = AppHostProcess.Start(["--recipe", TestPaths.SmokeRecipe, "--dataset", dataset, "--output", Path.Combine(_root, "run")]);
        Assert.Equal(2, await host.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains($"[trainer] fail: GrpoAspire.Trainer.Training.TrainerWorker[0] training failed: --dataset {dataset}: no such file", host.Output, StringComparison.Ordinal);
        Assert.Contains("[apphost] training failed (trainer exit code 2)", host.Output, StringComparison.Ordinal);
        // The replica that waited for the trainer never started: the app's start was cut short, and says nothing of it.
        Assert.DoesNotContain("Hosting failed to start", host.Output, StringComparison.Ordinal);
        await host.Marker.AssertNoneLeftAsync(TimeSpan.FromSeconds(30), host.Output);
    }

    [Fact]
    public async Task WithoutRedisServerItSaysHowToInstallItAndExitsOne()
    {
        using var host = AppHostProcess.Start(["--max-steps", "1"], new Dictionary<string, string> { ["PATH"] = "/nonexistent" });
        Assert.Equal(1, await host.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("redis-server is not installed: install it with `sudo apt-get install redis-server`", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADashboardAddressInUseIsOneLineAndExitCodeOne()
    {
        // Another AppHost's dashboard, as far as this one can tell; a port that is taken already (by one) serves as well.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 18888);
        try
        {
            listener.Start();
        }
        catch (System.Net.Sockets.SocketException)
        {
        }

        using var host = AppHostProcess.Start(["--recipe", TestPaths.SmokeRecipe, "--max-steps", "1"]);
        Assert.Equal(1, await host.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("apphost: the dashboard cannot listen on http://127.0.0.1:18888 (ASPNETCORE_URLS): the address is in use", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadRecipePathIsAUsageErrorWithExitCodeTwo()
    {
        using var host = AppHostProcess.Start(["--recipe", Path.Combine(_root, "missing.yaml")]);
        Assert.Equal(2, await host.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--recipe: ", host.Output, StringComparison.Ordinal);
        Assert.Contains("does not exist", host.Output, StringComparison.Ordinal);
    }
}
