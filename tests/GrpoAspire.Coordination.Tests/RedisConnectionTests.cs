using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace GrpoAspire.Coordination.Tests;

public sealed class RedisConnectionTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    /// <summary>
    /// Nothing listens on port 1. Short timeouts so that a PING fails fast: while disconnected a command waits in the
    /// backlog for syncTimeout (5 s by default) before it fails.
    /// </summary>
    private const string NoRedis = "127.0.0.1:1,abortConnect=true,connectTimeout=200,syncTimeout=500,asyncTimeout=500";

    [Fact]
    public async Task AddGrpoRedisConnectsWithTheConnectionStringOfAspiresContract()
    {
        using var host = Build(redis.Server.ConnectionString);
        var connection = host.Services.GetRequiredService<IConnectionMultiplexer>();

        Assert.Same(connection, host.Services.GetRequiredService<IConnectionMultiplexer>());
        Assert.True(await connection.GetDatabase().PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public void AddGrpoRedisWithoutAConnectionStringSaysWhatToSet()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddGrpoRedis("cache"));

        Assert.Contains("ConnectionStrings__cache", error.Message);
    }

    [Fact]
    public async Task AConnectionStringAlwaysGetsAbortConnectFalse()
    {
        var options = RedisConnection.ParseOptions("127.0.0.1:1,abortConnect=true,connectTimeout=200");

        Assert.False(options.AbortOnConnectFail);
        // Nothing listens on port 1: the connection is created anyway and retries in the background.
        await using var connection = await RedisConnection.ConnectAsync("127.0.0.1:1,connectTimeout=200");
        Assert.False(connection.IsConnected);
    }

    [Fact]
    public void AddGrpoRedisForcesAbortConnectFalseOverTheConnectionStringAndAspiresSection()
    {
        using var host = Build(NoRedis, ("Aspire:StackExchange:Redis:ConfigurationOptions:AbortOnConnectFail", "true"));

        Assert.False(host.Services.GetRequiredService<IOptions<ConfigurationOptions>>().Value.AbortOnConnectFail);
        // With abortConnect=true this would throw RedisConnectionException.
        var connection = host.Services.GetRequiredService<IConnectionMultiplexer>();
        Assert.False(connection.IsConnected);
    }

    [Fact]
    public async Task TheRedisHealthCheckIsHealthyWhenRedisAnswersAndUnhealthyWhenItDoesNot()
    {
        using var up = Build(redis.Server.ConnectionString);
        using var down = Build(NoRedis);

        Assert.Equal(HealthStatus.Healthy, (await RedisCheckAsync(up)).Status);
        Assert.Equal(HealthStatus.Unhealthy, (await RedisCheckAsync(down)).Status);
        // Untagged: /health (readiness, every check) has it, /alive (liveness, the "live" tag only) does not.
        var registration = up.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations
            .Single(r => r.Name == "StackExchange.Redis");
        Assert.Empty(registration.Tags);
    }

    [Fact]
    public async Task RedisCommandsAreTracedInsideATraceAndNeitherAsTracesOfTheirOwnNorAsStreamPolls()
    {
        using var source = new ActivitySource("grpo.test.redis");
        var exported = new List<Activity>();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration["ConnectionStrings:redis"] = redis.Server.ConnectionString;
        // The exporter comes before AddGrpoRedis's filter, as the services' OTLP and JSONL exporters do.
        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing
            .AddSource(source.Name)
            .AddProcessor(new SimpleActivityExportProcessor(new ListExporter(exported))));
        builder.AddGrpoRedis();
        ActivitySpanId stepSpan;
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var db = host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            await db.StringSetAsync("outside-any-trace", "1");
            using (var step = source.StartActivity("step"))
            {
                stepSpan = step!.SpanId;
                await db.StringSetAsync("inside-the-step", "1");
                await db.StreamReadAsync("a-stream", "0-0");
            }

            await host.StopAsync();
        }

        // Disposing the tracer provider flushed the instrumentation's profiling sessions.
        var redisSpans = exported.Where(span => span.Source.Name == RedisTracing.SourceName).ToList();
        var set = Assert.Single(redisSpans, span => span.DisplayName == "SET");
        Assert.Equal(stepSpan, set.ParentSpanId);
        Assert.All(redisSpans, span => Assert.NotEqual(default, span.ParentSpanId));
        // The stream poll of the step is not recorded either.
        Assert.DoesNotContain(redisSpans, span => span.DisplayName == "XREAD");
    }

    private static IHost Build(string connectionString, params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration["ConnectionStrings:redis"] = connectionString;
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        builder.AddGrpoRedis();
        return builder.Build();
    }

    private static async Task<HealthReportEntry> RedisCheckAsync(IHost host) =>
        (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["StackExchange.Redis"];

    private sealed class ListExporter(List<Activity> exported) : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch)
        {
            lock (exported)
            {
                foreach (var activity in batch)
                {
                    exported.Add(activity);
                }
            }

            return ExportResult.Success;
        }
    }
}
