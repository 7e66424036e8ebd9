using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GrpoAspire.Testing;

/// <summary>
/// One service run as its own process (<c>dotnet Service.dll</c> from its build folder) with two loopback endpoints
/// (gRPC over HTTP/2, health over HTTP/1.1) and the environment an orchestrator would give it.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private const int MaxLogLines = 4000;
    private readonly Process _process;
    private readonly List<string> _log = [];

    private ServiceProcess(string name, Process process, int grpcPort, int httpPort)
    {
        Name = name;
        _process = process;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
    }

    public string Name { get; }

    public int GrpcPort { get; }

    public int HttpPort { get; }

    public Uri GrpcAddress => new($"http://127.0.0.1:{GrpcPort}");

    public bool HasExited => _process.HasExited;

    /// <summary>The service's peak resident set (VmHWM of /proc/PID/status) since it started, in bytes.</summary>
    public long PeakResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join('\n', _log);
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}");

    /// <summary>Starts <paramref name="project"/> (e.g. GrpoAspire.Trainer) and waits until its /health answers 200.</summary>
    /// <param name="ports">the gRPC and HTTP ports, to restart a service where its clients expect it; free ones by default</param>
    /// <param name="waitUntilHealthy">false returns once the process is started (a service expected to exit at once)</param>
    public static async Task<ServiceProcess> StartAsync(
        string name, string project, IReadOnlyDictionary<string, string> environment, (int Grpc, int Http)? ports = null, TimeSpan? timeout = null,
        bool waitUntilHealthy = true)
    {
        // A free port can be taken by another process between choosing and binding it; the service then exits while
        // starting, and other free ports are tried.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(name, project, environment, ports ?? (FreePort(), FreePort()), timeout, waitUntilHealthy);
            }
            catch (InvalidOperationException e) when (ports is null && attempt < 3 && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task<ServiceProcess> StartOnceAsync(
        string name, string project, IReadOnlyDictionary<string, string> environment, (int Grpc, int Http) ports, TimeSpan? timeout,
        bool waitUntilHealthy)
    {
        var (grpcPort, httpPort) = ports;
        var start = new ProcessStartInfo("dotnet", [ServiceDll(project)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServiceDll(project))!,
        };
        start.Environment["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{grpcPort}";
        start.Environment["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{httpPort}";
        start.Environment["OTEL_SERVICE_NAME"] = name;
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {project}");
        var service = new ServiceProcess(name, process, grpcPort, httpPort);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitUntilHealthy)
        {
            await service.WaitHealthyAsync(timeout ?? TimeSpan.FromSeconds(60));
        }

        return service;
    }

    /// <summary>Waits for the process to exit by itself and returns its exit code; fails with its log when it does not.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{Name} was still running after {timeout.TotalSeconds:F0} s:\n{Log}");
        }

        return _process.ExitCode;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            if (_log.Count < MaxLogLines)
            {
                _log.Add(line);
            }
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} while starting:\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/health"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Name} was not healthy after {timeout.TotalSeconds:F0} s:\n{Log}");
    }

    /// <summary>SIGKILL: no shutdown hooks, as a crashed pod.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string ServiceDll(string project) => TestPaths.ProgramDll("services", project);
}
