using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace GrpoAspire.AppHost.Hosting;

/// <summary>
/// A resource run as a child process: its output captured line by line (echoed with a <c>[name]</c> prefix), its
/// health probed over HTTP (<c>/health</c> on the <c>http</c> endpoint) or TCP, and its whole process tree stopped
/// on shutdown: SIGTERM first (services shut down gracefully), SIGKILL after a grace period.
/// </summary>
public sealed class ProcessResource(string name, string type, string command, IReadOnlyList<string> arguments, string workingDirectory)
    : Resource(name, type)
{
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(10);
    private Process? _process;

    public string Command { get; } = command;

    public IReadOnlyList<string> Arguments { get; } = arguments;

    /// <summary>How readiness is checked; null means "running is ready".</summary>
    public Func<CancellationToken, Task<bool>>? HealthCheck { get; set; }

    public Task Exited { get; private set; } = Task.CompletedTask;

    /// <summary>Runs after what it waits for is healthy, before the process starts (to add environment learned from them).</summary>
    public Func<CancellationToken, Task>? BeforeStart { get; set; }

    public void Start(TextWriter console, object consoleGate)
    {
        // In a session of its own (setsid), a resource does not get the terminal's Ctrl+C: the AppHost alone does, and
        // stops the resources in reverse start order, so no service sees Redis vanish under it.
        var setsid = OperatingSystem.IsLinux() && File.Exists("/usr/bin/setsid");
        var start = new ProcessStartInfo(setsid ? "/usr/bin/setsid" : Command, setsid ? [Command, .. Arguments] : Arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var (key, value) in Environment)
        {
            start.Environment[key] = value;
        }

        State = ResourceState.Starting;
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException($"{Command} did not start");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            State = ResourceState.FailedToStart;
            AddLog(e.Message, error: true);
            throw new InvalidOperationException($"{Name}: could not start '{Command}': {e.Message}", e);
        }

        ProcessId = _process.Id;
        StartedAt = DateTimeOffset.UtcNow;
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) =>
        {
            ExitCode = _process.ExitCode;
            if (State != ResourceState.Finished)
            {
                State = ResourceState.Exited;
            }

            Health = ResourceHealth.Unknown;
            exited.TrySetResult();
        };
        Exited = exited.Task;
        _process.OutputDataReceived += (_, e) => Echo(e.Data, error: false, console, consoleGate);
        _process.ErrorDataReceived += (_, e) => Echo(e.Data, error: true, console, consoleGate);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void Echo(string? line, bool error, TextWriter console, object gate)
    {
        if (line is null)
        {
            return;
        }

        AddLog(line, error);
        lock (gate)
        {
            console.WriteLine($"[{Name}] {line}");
        }
    }

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        if (_process is null || _process.HasExited)
        {
            return false;
        }

        return HealthCheck is null || await HealthCheck(cancellationToken);
    }

    /// <summary>SIGTERM to the process, SIGKILL to its whole tree after the grace period.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        State = ResourceState.Finished;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            _ = Kill(_process.Id, 15);
            var exited = await Task.WhenAny(Exited, Task.Delay(GracePeriod));
            if (exited == Exited)
            {
                return;
            }
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited in between.
        }

        await _process.WaitForExitAsync();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>An HTTP GET that answers 2xx.</summary>
    public static Func<CancellationToken, Task<bool>> HttpHealth(Uri url)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        return async cancellationToken =>
        {
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                return response.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        };
    }

    /// <summary>A Redis PING answered with +PONG.</summary>
    public static Func<CancellationToken, Task<bool>> RedisPing(int port) => async cancellationToken =>
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[16];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    };
}
