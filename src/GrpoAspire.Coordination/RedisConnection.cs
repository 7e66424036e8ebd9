using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
    /// Registers one shared <see cref="IConnectionMultiplexer"/> (it multiplexes every caller over one connection and
    /// is meant to live as long as the process) from <c>ConnectionStrings:{connectionName}</c>.
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

        // Parsed now, so a malformed string fails at startup rather than at the first resolve.
        var options = ParseOptions(connectionString);
        builder.Services.AddSingleton<IConnectionMultiplexer>(services =>
        {
            options.LoggerFactory ??= services.GetService<ILoggerFactory>();
            return ConnectionMultiplexer.Connect(options);
        });
        return builder;
    }
}
