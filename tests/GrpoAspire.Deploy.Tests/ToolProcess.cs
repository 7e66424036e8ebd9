using System.Diagnostics;

namespace GrpoAspire.Deploy.Tests;

/// <summary>A command-line tool the tests run (kubectl, the AppHost's manifest publisher): its output, or why it failed.</summary>
internal static class ToolProcess
{
    /// <summary>
    /// Runs <paramref name="start"/> to its end (its output redirected here) and returns its standard output; throws
    /// naming <paramref name="what"/> when it does not start, takes longer than <paramref name="timeout"/> or exits non-zero.
    /// </summary>
    public static string Run(ProcessStartInfo start, TimeSpan timeout, string what)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        // Both pipes drained at once: a full stderr buffer would otherwise block the tool.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not finish in {timeout.TotalSeconds:0} s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed with exit code {process.ExitCode}: {error.Result.Trim()}\n{output.Result}");
        }

        return output.Result;
    }
}
