using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace GrpoAspire.Testing;

/// <summary>The built AppHost run as a process, as users run it; its output kept, its processes marked.</summary>
internal sealed class AppHostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppHostProcess(Process process) => _process = process;

    public ProcessMarker Marker { get; } = new();

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>dotnet GrpoAspire.AppHost.dll ARGS</c> with <paramref name="environment"/> added.</summary>
    public static AppHostProcess Start(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = TestPaths.ProgramDll(".", "GrpoAspire.AppHost");
        var start = new ProcessStartInfo(Path.Combine(Path.GetDirectoryName(Environment.ProcessPath!)!, "dotnet"), [dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The AppHost's content root is its working directory: a test's own output folder can hold a service's
            // appsettings.json (GrpoAspire.Faults.Tests' has the trainer's), whose Kestrel endpoints the AppHost's
            // resource service would then bind too, failing its start ("Sequence contains more than one element").
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        var host = new AppHostProcess(process);
        start.Environment[ProcessMarker.Variable] = host.Marker.Value;
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    /// <summary>Waits for the process to exit; kills it and fails with its output after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"the AppHost did not exit within {timeout.TotalSeconds:0} s; its output:\n{Output}");
        }

        _process.WaitForExit(); // the output's last lines
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as a script or a service manager stops it (a background job's SIGINT is ignored).</summary>
    public void Terminate() => Signal(15);

    /// <summary>Sends <paramref name="signal"/> (9 SIGKILL, 15 SIGTERM, 1 SIGHUP, ...) to the AppHost alone.</summary>
    public void Signal(int signal) => Assert.Equal(0, Kill(_process.Id, signal));

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Kills the AppHost and then whatever of its app is left (the services stop on their own only within seconds).</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        Marker.KillAll();
        _process.Dispose();
    }

#pragma warning disable SYSLIB1054 // a plain DllImport: LibraryImport needs unsafe code for this one call
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
