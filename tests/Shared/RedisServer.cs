using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace GrpoAspire.Testing;

/// <summary>
/// A real <c>redis-server</c> for tests: started as a child process on a free loopback port, with persistence off
/// (nothing written to disk) and a password required, as the AppHost and Kubernetes run it; ready once it answers an
/// authenticated PING, killed on dispose. Use it as an xunit class or collection
/// fixture; other test projects link this file (<c>&lt;Compile Include="../Shared/RedisServer.cs" /&gt;</c>).
/// </summary>
/// <remarks>
/// Depends on nothing but the BCL and xunit, so linking it adds no package. redis-server comes from the Debian
/// package of the same name, which scripts/install-deps.sh installs.
/// </remarks>
public sealed class RedisServer : IAsyncLifetime, IAsyncDisposable
{
    private const string Program = "redis-server";
    private const int MaxOutputChars = 16_384;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>The server's port on 127.0.0.1 (0 until started).</summary>
    public int Port { get; private set; }

    /// <summary>The password the server requires: fresh per server, letters and digits as the AppHost makes them.</summary>
    public string Password { get; } = Guid.NewGuid().ToString("N");

    /// <summary>A connection string in the form services receive as <c>ConnectionStrings__redis</c>, with the password.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},password={Password}";

    /// <summary>What the server printed so far (bounded), for failure messages.</summary>
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

    public async Task InitializeAsync()
    {
        var path = FindOnPath(Program) ?? throw new InvalidOperationException(
            $"{Program} is not installed (not found on PATH): run scripts/install-deps.sh, or "
            + $"apt-get install -y redis-server");

        // A free port can be taken between choosing and binding it; redis-server then exits at once, and a
        // second port is tried.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                await StartAsync(path, FreePort());
                return;
            }
            catch (InvalidOperationException e) when (_process is { HasExited: true })
            {
                last = e;
                _process.Dispose();
                _process = null;
            }
        }

        throw last!;
    }

    public async Task DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _process = null;
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    /// <summary>SIGKILLs the server, as a crashed Redis pod; <see cref="Port"/> stays, for <see cref="RestartEmptyAsync"/>.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts a new, empty server on the same port (a Redis pod restarted without persistence).</summary>
    public async Task RestartEmptyAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _process = null;
        await StartAsync(FindOnPath(Program)!, Port);
    }

    /// <summary>
    /// Sends one inline command (e.g. <c>FLUSHALL</c>) on a fresh connection, after <c>AUTH</c> with
    /// <paramref name="password"/> (the server's by default; null sends none), and returns the first line of its reply.
    /// </summary>
    public async Task<string> CommandAsync(string command, CancellationToken cancellationToken = default) =>
        await CommandAsync(Port, command, Password, cancellationToken);

    /// <inheritdoc cref="CommandAsync(string, CancellationToken)"/>
    public static async Task<string> CommandAsync(int port, string command, string? password, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        var stream = client.GetStream();
        var auth = password is null ? "" : $"AUTH {password}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(auth + command + "\r\n"), cancellationToken);
        var buffer = new byte[512];
        var reply = new StringBuilder();
        var lines = password is null ? 1 : 2;
        while (reply.ToString().Split("\r\n").Length <= lines && reply.Length < 16_384)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var replies = reply.ToString().Split("\r\n");
        if (password is not null && replies[0] != "+OK")
        {
            return replies[0]; // AUTH failed: that is the answer.
        }

        return replies[lines - 1];
    }

    private async Task StartAsync(string path, int port)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        // "-": the config from stdin, so the password is on no command line.
        foreach (var argument in new[]
                 {
                     "-", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}");
        await _process.StandardInput.WriteAsync($"requirepass {Password}\n");
        _process.StandardInput.Close();
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Port = port;

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"{path} exited with code {_process.ExitCode} on port {port}:\n{Output}");
            }

            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                if (await CommandAsync("PING", timeout.Token) == "+PONG")
                {
                    return;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(20);
        }

        await DisposeAsync();
        throw new TimeoutException($"{path} did not answer PING on port {port} within {StartTimeout}:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length + line.Length < MaxOutputChars)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, program))
        .FirstOrDefault(File.Exists);
}
