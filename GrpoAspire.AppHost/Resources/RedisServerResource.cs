using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrpoAspire.AppHost.Resources;

/// <summary>A tool the app model needs is not installed; the message says how to install it.</summary>
public sealed class MissingToolException(string message) : Exception(message);

/// <summary>
/// The Debian <c>redis-server</c> as an Aspire executable resource that others reference for their connection string
/// (<c>ConnectionStrings__redis</c> = <c>127.0.0.1:PORT</c>): Aspire's <c>AddRedis</c> is a container and this
/// project must run where no container runtime is.
/// </summary>
public sealed class RedisServerResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public EndpointReference Endpoint => field ??= new EndpointReference(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Endpoint.Property(EndpointProperty.IPV4Host)}:{Endpoint.Property(EndpointProperty.Port)}");
}

public static class RedisServerResourceExtensions
{
    /// <summary>
    /// <c>redis-server</c> from PATH on a loopback port DCP allocates, nothing persisted, healthy once it answers PING.
    /// </summary>
    /// <exception cref="MissingToolException">redis-server is not on PATH.</exception>
    public static IResourceBuilder<RedisServerResource> AddRedisServer(this IDistributedApplicationBuilder builder, string name)
    {
        var path = FindOnPath("redis-server")
            ?? throw new MissingToolException("redis-server is not installed: install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)");
        var redis = new RedisServerResource(name, path, Path.GetTempPath());
        var healthCheck = $"{name}-ping";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, cancellationToken => PingAsync(redis.Endpoint, cancellationToken));
        return builder.AddResource(redis)
            .WithEndpoint(name: RedisServerResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
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

    /// <summary>A Redis PING answered with +PONG.</summary>
    private static async Task<HealthCheckResult> PingAsync(EndpointReference endpoint, CancellationToken cancellationToken)
    {
        if (!endpoint.IsAllocated)
        {
            return HealthCheckResult.Unhealthy("no port allocated yet");
        }

        try
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await client.ConnectAsync("127.0.0.1", endpoint.Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            var reply = Encoding.ASCII.GetString(buffer, 0, read);
            return reply.StartsWith("+PONG", StringComparison.Ordinal) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy($"PING answered '{reply.Trim()}'");
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
