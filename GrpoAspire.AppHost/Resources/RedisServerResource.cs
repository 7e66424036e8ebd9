using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrpoAspire.AppHost.Resources;

/// <summary>A tool the app model needs is not installed; the message says how to install it.</summary>
public sealed class MissingToolException(string message) : Exception(message);

/// <summary>
/// The Debian <c>redis-server</c> as an Aspire executable resource that others reference for their connection string
/// (<c>ConnectionStrings__redis</c> = <c>127.0.0.1:PORT,password=...</c>): Aspire's <c>AddRedis</c> is a container and
/// this project must run where no container runtime is. Redis requires the password of <see cref="Password"/>: anything
/// else on the host could otherwise read the run's keys and forge the rollout groups the trainer trusts.
/// </summary>
public sealed class RedisServerResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public EndpointReference Endpoint => field ??= new EndpointReference(this, EndpointName);

    /// <summary>The secret parameter <c>{name}-password</c>: <c>Parameters__redis-password</c>, else generated per run.</summary>
    public ParameterResource Password { get; } = password;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{Endpoint.Property(EndpointProperty.IPV4Host)}:{Endpoint.Property(EndpointProperty.Port)},password={Password}");
}

public static class RedisServerResourceExtensions
{
    /// <summary>
    /// <c>redis-server</c> from PATH on a loopback port DCP allocates, nothing persisted, a password required, healthy once
    /// it answers an authenticated PING. The password reaches redis-server in a config file only its user can read (0600 in
    /// a 0700 folder, deleted when the AppHost stops), never on its command line, which every user of the host sees.
    /// </summary>
    /// <exception cref="MissingToolException">redis-server is not on PATH.</exception>
    public static IResourceBuilder<RedisServerResource> AddRedisServer(this IDistributedApplicationBuilder builder, string name)
    {
        var path = FindOnPath("redis-server")
            ?? throw new MissingToolException("redis-server is not installed: install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)");
        // Letters and digits only: the value goes into a StackExchange.Redis connection string (',' and '=' separate
        // options) and a redis.conf line. 32 of 62 symbols: ~190 bits.
        var password = builder.AddParameter($"{name}-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        var redis = new RedisServerResource(name, path, Path.GetTempPath(), password.Resource);
        var config = new RedisConfigFile();
        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>((e, _) =>
        {
            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(config.Delete);
            return Task.CompletedTask;
        });
        var healthCheck = $"{name}-ping";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, cancellationToken => PingAsync(redis, cancellationToken));
        return builder.AddResource(redis)
            .WithEndpoint(name: RedisServerResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(async context =>
            {
                // redis-server takes its config file as the first argument; the options after it add to it.
                if (context.ExecutionContext.IsRunMode)
                {
                    // set-proc-title no: redis-server would write its title over its environment (/proc/PID/environ), where
                    // the AppHost's watchdog looks for its mark (AppHostWatchdog).
                    var password = await redis.Password.GetValueAsync(context.CancellationToken);
                    context.Args.Add(config.Write($"requirepass {password}\nset-proc-title no\n"));
                }

                context.Args.Add("--port");
                context.Args.Add(redis.Endpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--save");
                context.Args.Add(string.Empty);
                context.Args.Add("--appendonly");
                context.Args.Add("no");
            })
            .WithHealthCheck(healthCheck);
    }

    /// <summary>AUTH with the password, then PING: +OK and +PONG.</summary>
    private static async Task<HealthCheckResult> PingAsync(RedisServerResource redis, CancellationToken cancellationToken)
    {
        if (!redis.Endpoint.IsAllocated)
        {
            return HealthCheckResult.Unhealthy("no port allocated yet");
        }

        try
        {
            var password = await redis.Password.GetValueAsync(cancellationToken) ?? string.Empty;
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await client.ConnectAsync("127.0.0.1", redis.Endpoint.Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"*2\r\n$4\r\nAUTH\r\n${password.Length}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n"), timeout.Token);
            var reply = new StringBuilder();
            var buffer = new byte[64];
            while (reply.ToString().Split("\r\n").Length < 3)
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0 || reply.Length > 1024)
                {
                    break;
                }

                reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var text = reply.ToString();
            return text.StartsWith("+OK\r\n+PONG", StringComparison.Ordinal)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"AUTH and PING answered '{text.ReplaceLineEndings(" ").Trim()}'");
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}
