using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace GrpoAspire.Faults.Tests;

/// <summary>
/// The AppHost killed mid-run, however: nothing it started (redis-server, the services and their <c>dotnet run</c>
/// wrappers, DCP, the dashboard) keeps running; and the Redis it starts refuses whoever lacks the run's password.
/// </summary>
public sealed partial class AppHostFaultTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>From the signal to the last process of the app gone.</summary>
    private static readonly TimeSpan NothingLeftWithin = TimeSpan.FromSeconds(15);

    private readonly string _root = Directory.CreateTempSubdirectory("grpo-apphost-fault-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>9 SIGKILL (nothing runs in the AppHost after it), 1 SIGHUP (a closed terminal; .NET does not handle it),
    /// 15 SIGTERM (a graceful stop, as <c>pkill -f GrpoAspire.AppHost</c> sends).</summary>
    [Theory]
    [InlineData(9)]
    [InlineData(1)]
    [InlineData(15)]
    public async Task TheAppHostKilledMidRunLeavesNoProcessOfTheAppRunning(int signal)
    {
        using var host = StartMidRun();
        var redisPort = await WaitForTrainingAsync(host);

        var clock = Stopwatch.StartNew();
        host.Signal(signal);
        await host.Marker.AssertNoneLeftAsync(NothingLeftWithin, host.Output);
        output.WriteLine($"signal {signal}: last process of the app gone {clock.Elapsed.TotalSeconds:0.0} s after it");
        Assert.False(Listening(redisPort), $"redis-server still listens on port {redisPort}");
    }

    [Fact]
    public async Task TheAppHostsRedisRefusesAClientWithoutThePasswordAndServesTheServices()
    {
        using var host = StartMidRun();
        // The trainer reports steps only once the services took jobs and handed rollouts back through Redis.
        var redisPort = await WaitForTrainingAsync(host);

        Assert.StartsWith("-NOAUTH", await RedisServer.CommandAsync(redisPort, "PING", password: null), StringComparison.Ordinal);
        Assert.StartsWith("-NOAUTH", await RedisServer.CommandAsync(redisPort, "KEYS *", password: null), StringComparison.Ordinal);
        Assert.StartsWith("-WRONGPASS", await RedisServer.CommandAsync(redisPort, "PING", password: "guessed"), StringComparison.Ordinal);
        // Nor is it on any command line: ps shows those to every user of the host.
        var redisCommand = host.Marker.Alive().Single(p => p.Command.Contains("redis-server", StringComparison.Ordinal)).Command;
        Assert.DoesNotContain("requirepass", redisCommand, StringComparison.Ordinal);
        Assert.All(host.Marker.Alive(), p => Assert.DoesNotContain("password=", p.Command, StringComparison.Ordinal));
    }

    /// <summary>The smoke recipe with steps enough to be mid-run whenever the test acts, dashboard on free ports.</summary>
    private AppHostProcess StartMidRun()
    {
        // tests/GrpoAspire.AppHost.Tests runs beside this suite on the dashboard's default ports.
        var ports = FreePorts(3);
        return AppHostProcess.Start(["--recipe", TestPaths.SmokeRecipe, "--max-steps", "100000", "--output", Path.Combine(_root, "run")],
            new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ports[0]}",
                ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{ports[1]}",
                ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{ports[2]}",
            });
    }

    /// <summary>Waits for the trainer's first step; returns the port of the app's redis-server.</summary>
    private static async Task<int> WaitForTrainingAsync(AppHostProcess host)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!StepReported().IsMatch(host.Output))
        {
            Assert.True(DateTime.UtcNow < deadline && !host.HasExited,
                $"the trainer reported no step within 3 minutes, or the AppHost exited:\n{host.Output}");
            await Task.Delay(250);
        }

        // set-proc-title no keeps redis-server's environment, and so its mark, readable.
        var redis = host.Marker.Alive().Where(p => p.Command.Contains("redis-server", StringComparison.Ordinal)).ToList();
        Assert.True(redis.Count == 1, $"marked redis-server processes: {redis.Count}\n{string.Join('\n', host.Marker.Alive())}");
        return int.Parse(RedisPort().Match(redis[0].Command).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Distinct free ports: each held until all are chosen, since a port let go can be handed out again.</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(listener => listener.Start());
        var ports = listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port).ToArray();
        listeners.ForEach(listener => listener.Stop());
        return ports;
    }

    [GeneratedRegex(@"\[trainer\] .* step \d+/100000")]
    private static partial Regex StepReported();

    [GeneratedRegex(@"--port (\d+)")]
    private static partial Regex RedisPort();
}
