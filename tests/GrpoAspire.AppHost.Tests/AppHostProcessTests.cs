using System.Diagnostics;
using System.Text.RegularExpressions;

namespace GrpoAspire.AppHost.Tests;

/// <summary>The AppHost run as users run it (its built program), with real redis-server and services.</summary>
public sealed partial class AppHostProcessTests : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("grpo-apphost-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public async Task TheSmokeRecipeRunsTwoStepsExitsZeroAndLeavesNoProcessBehind()
    {
        var (exitCode, output) = await RunAppHostAsync(
            ["--recipe", Path.Combine(RepoRoot(), "recipes", "smoke-cpu.yaml"), "--max-steps", "2", "--exit-when-done", "--output", Path.Combine(_output, "run")],
            TimeSpan.FromMinutes(4));
        Assert.True(exitCode == 0, output);
        Assert.Contains("[apphost] training finished", output, StringComparison.Ordinal);
        Assert.Contains("step 2/2", output, StringComparison.Ordinal);

        var pids = StartedPid().Matches(output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(4, pids.Length); // redis, reward, trainer, generation
        foreach (var pid in pids)
        {
            Assert.False(IsAlive(pid), $"process {pid} is still running after the AppHost exited");
        }

        Assert.True(File.Exists(Path.Combine(_output, "run", "checkpoint-2", "model.safetensors")));
    }

    [Fact]
    public async Task WithoutRedisServerItSaysHowToInstallItAndExitsOne()
    {
        var (exitCode, output) = await RunAppHostAsync(["--max-steps", "1", "--exit-when-done"], TimeSpan.FromMinutes(1), path: "/nonexistent");
        Assert.Equal(1, exitCode);
        Assert.Contains("redis-server is not installed: install it with `sudo apt-get install redis-server`", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\[apphost\] \S+ started \(pid (\d+)\)")]
    internal static partial Regex StartedPid();

    internal static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    internal static ProcessStartInfo AppHostStart(string[] args)
    {
        var dll = typeof(AppHostArguments).Assembly.Location;
        return new ProcessStartInfo("dotnet", [dll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    }

    private static async Task<(int ExitCode, string Output)> RunAppHostAsync(string[] args, TimeSpan timeout, string? path = null)
    {
        var start = AppHostStart(args);
        if (path is not null)
        {
            start.Environment["PATH"] = path;
            start.FileName = Path.Combine(Path.GetDirectoryName(Environment.ProcessPath!)!, "dotnet");
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the AppHost did not exit in {timeout}:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    internal static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        return directory!.FullName;
    }
}
