using System.Diagnostics;
using System.Text;

namespace GrpoAspire.Testing;

/// <summary>
/// <c>grpo</c> (src/GrpoAspire.Cli's grpo.dll) run as its own process, as a user runs it: its exit code and its standard
/// streams, or the process itself to kill it mid-run.
/// </summary>
internal sealed class GrpoCliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _error = new();

    private GrpoCliProcess(Process process) => _process = process;

    public static string Dll => Path.Combine(TestPaths.RepoRoot, "src", "GrpoAspire.Cli", "bin", TestPaths.Configuration, "net10.0", "grpo.dll") is var dll && File.Exists(dll)
        ? dll
        : throw new FileNotFoundException($"{dll} is missing: build src/GrpoAspire.Cli first", dll);

    public string Out
    {
        get
        {
            lock (_out)
            {
                return _out.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>dotnet grpo.dll args</c> in the repository root, one torch thread (CI has two cores).</summary>
    public static GrpoCliProcess Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        start.Environment["OMP_NUM_THREADS"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start grpo");
        var cli = new GrpoCliProcess(process);
        process.OutputDataReceived += (_, e) => Append(cli._out, e.Data);
        process.ErrorDataReceived += (_, e) => Append(cli._error, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Runs <c>grpo args</c> to its end; fails the test with its output when it runs past <paramref name="timeout"/>.</summary>
    public static async Task<GrpoCliProcess> RunAsync(TimeSpan timeout, params string[] args)
    {
        var cli = Start(args);
        await cli.WaitForExitAsync(timeout);
        return cli;
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            Assert.Fail($"grpo was still running after {timeout.TotalSeconds:F0} s:\n{Error}");
        }

        _process.WaitForExit(); // the output events drained
    }

    /// <summary>SIGKILL: no shutdown hooks, as an OOM kill or a lost node.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            if (text.Length < 1 << 20)
            {
                text.AppendLine(line);
            }
        }
    }
}
