using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace GrpoAspire.Coordination.Tests;

public sealed class RedisConnectionTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task AddGrpoRedisConnectsWithTheConnectionStringOfAspiresContract()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration["ConnectionStrings:redis"] = redis.Server.ConnectionString;

        builder.AddGrpoRedis();
        using var host = builder.Build();
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
}
