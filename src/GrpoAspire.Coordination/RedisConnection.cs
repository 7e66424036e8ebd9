using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace GrpoAspire.Coordination;

/// <summary>
/// Connections to the run's Redis from a connection string in Aspire's contract (<c>ConnectionStrings__redis</c>:
/// <c>127.0.0.1:6379</c>, or StackExchange.Redis options such as <c>host:6379,password=...,ssl=true</c>).
/// </summary>
public static class RedisConnection
{
    /// <summary>Name of the Redis resource, shared by the AppHost and every service.</summary>
    public const string DefaultConnectionName = "redis";

    /// <summary>
    /// Parses the connection string with <c>abortConnect=false</c> forced, whatever it says: a service that starts
    /// before Redis (or outlives a Redis restart) keeps retrying in the background instead of failing at startup.
    /// </summary>
    public static ConfigurationOptions ParseOptions(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        return options;
    }

    /// <summary>Connects (or starts connecting, when Redis is not up yet) with <see cref="ParseOptions"/>.</summary>
    public static async Task<IConnectionMultiplexer> ConnectAsync(string connectionString,
        ILoggerFactory? loggerFactory = null)
    {
        var options = ParseOptions(connectionString);
        options.LoggerFactory = loggerFactory;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>
    /// Registers one shared <see cref="IConnectionMultiplexer"/> from <c>ConnectionStrings:{connectionName}</c> through
    /// Aspire's client integration (<c>AddRedisClient</c>, package Aspire.StackExchange.Redis): the multiplexer is created
    /// when the host starts and lives as long as the process, with logging, a health check and tracing.
    /// <list type="bullet">
    /// <item><c>AbortOnConnectFail</c> is forced false over the connection string and the <c>Aspire:StackExchange:Redis</c>
    /// section: a service that starts before Redis, or outlives a Redis restart, keeps retrying in the background.</item>
    /// <item>Health check <c>StackExchange.Redis</c> (PING): untagged, so <c>/health</c> (readiness) includes it and
    /// <c>/alive</c> (liveness) does not. A trainer or replica whose Redis is down is not ready (it can neither take nor
    /// hand out work: jobs, rollouts and weight announcements all go through Redis), and is not restarted for it; it is
    /// ready again as soon as the multiplexer has reconnected. Kubernetes then takes it out of its Service meanwhile, and
    /// the AppHost's <c>WaitFor</c> waits for Redis before the services start anyway.</item>
    /// <item>Tracing: the integration adds its own Redis instrumentation (ActivitySource
    /// <see cref="RedisTracing.SourceName"/>) to the service's OpenTelemetry tracer provider; ServiceDefaults adds none,
    /// so it is registered once. Commands issued outside any trace (the replicas' job polls, every 50 ms) and stream polls
    /// inside one (the trainer waiting for rollouts) are dropped by <see cref="RedisTracing.QuietSpanFilter"/>; the other
    /// commands of a step stay in the step's trace.</item>
    /// </list>
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection string is not configured.</exception>
    public static IHostApplicationBuilder AddGrpoRedis(this IHostApplicationBuilder builder,
        string connectionName = DefaultConnectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"no Redis connection string: set ConnectionStrings:{connectionName} (environment variable "
                + $"ConnectionStrings__{connectionName}, e.g. 127.0.0.1:6379); the AppHost sets it for its services");
        }

        // Parsed now, so a malformed string fails here rather than when the host starts.
        _ = ParseOptions(connectionString);
        builder.AddRedisClient(connectionName, configureOptions: options => options.AbortOnConnectFail = false);
        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddProcessor(new RedisTracing.QuietSpanFilter()));
        return builder;
    }
}
