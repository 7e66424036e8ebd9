using System.Diagnostics;

namespace GrpoAspire.Cli.Tests;

/// <summary>Runs the built <c>grpo</c> program (copied next to the tests by the project reference).</summary>
public class GrpoProcessTests
{
    [Fact]
    public async Task TheGrpoProgramScoresAFileAndSetsItsExitCode()
    {
        var directory = Directory.CreateTempSubdirectory("grpo-process-");
        try
        {
            var inputPath = Path.Combine(directory.FullName, "completions.jsonl");
            long[] nums = [14, 70, 80];
            await File.WriteAllLinesAsync(inputPath,
            [
                CliRun.Line(CliRun.Completion("80 + (70 / 14)"), nums, 85, "right"),
                "not json",
                CliRun.Line(CliRun.Completion("80 + 70 - 14"), nums, 85, "wrong"),
            ]);

            var (exitCode, stdout, stderr) = await RunGrpoAsync("score", "--input", inputPath);

            Assert.Equal(ExitCodes.PartialFailure, exitCode);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.Equal(
                """{"line":1,"id":"right","format":1.0,"equation":1.0,"total":2.0,"equation_verdict":"correct"}""",
                lines[0]);
            Assert.StartsWith("""{"line":2,"error":"invalid JSON at byte 1: """, lines[1]);
            Assert.Equal(
                """{"line":3,"id":"wrong","format":1.0,"equation":0.0,"total":1.0,"equation_verdict":"wrong_value"}""",
                lines[2]);
            Assert.Contains("1 of 3 lines could not be scored", stderr);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunGrpoAsync(params string[] args)
    {
        var grpo = Path.Combine(AppContext.BaseDirectory, "grpo.dll");
        Assert.True(File.Exists(grpo), $"the built program is missing: {grpo}");
        // `dotnet test` names the host it runs under; fall back to the one on PATH.
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(grpo);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
