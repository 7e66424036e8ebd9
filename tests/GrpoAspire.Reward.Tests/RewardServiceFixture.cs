using Grpc.Net.Client;
using GrpoAspire.Contracts.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GrpoAspire.Reward.Tests;

/// <summary>
/// The real reward service, started once per test class on two free loopback ports: <c>Grpc</c> (HTTP/2
/// cleartext) and <c>Http</c> (HTTP/1.1), reached through a real <see cref="GrpcChannel"/> and HttpClient.
/// </summary>
public class RewardServiceFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public Uri GrpcAddress { get; private set; } = null!;

    public Uri HttpAddress { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public RewardService.RewardServiceClient Client { get; private set; } = null!;

    /// <summary>HTTP/1.1 client for the <c>Http</c> endpoint.</summary>
    public HttpClient Http { get; } = new();

    /// <summary>Extra configuration, as <c>--Key=Value</c> arguments.</summary>
    protected virtual IEnumerable<string> Settings => [];

    public static string[] LoopbackArgs(IEnumerable<string> settings) =>
    [
        "--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:0",
        "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0",
        "--Logging:LogLevel:Default=Warning",
        .. settings,
    ];

    public async Task InitializeAsync()
    {
        _app = RewardApp.Build(LoopbackArgs(Settings));
        await _app.StartAsync();

        var addresses = _app.Services.GetRequiredService<IServer>().Features
            .GetRequiredFeature<IServerAddressesFeature>().Addresses;
        Assert.Equal(2, addresses.Count);
        foreach (var address in addresses.Select(a => new Uri(a)))
        {
            // Only the HTTP/1.1 endpoint answers an HTTP/1.1 request; the gRPC one says 400.
            using var probe = await Http.GetAsync(new Uri(address, "/alive"));
            if (probe.IsSuccessStatusCode)
            {
                HttpAddress = address;
            }
            else
            {
                GrpcAddress = address;
            }
        }

        Assert.NotNull(HttpAddress);
        Assert.NotNull(GrpcAddress);
        Channel = GrpcChannel.ForAddress(GrpcAddress);
        Client = new RewardService.RewardServiceClient(Channel);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>The service with <c>Reward:MaxCompletionBytes</c> at 2 MiB.</summary>
public sealed class LargeCompletionFixture : RewardServiceFixture
{
    public const int MaxCompletionBytes = 2 * 1024 * 1024;

    protected override IEnumerable<string> Settings => [$"--Reward:MaxCompletionBytes={MaxCompletionBytes}"];
}

/// <summary>The service with tiny limits: batches of 2, completions of 1000 bytes, messages of 4048 bytes.</summary>
public sealed class SmallLimitsFixture : RewardServiceFixture
{
    protected override IEnumerable<string> Settings => ["--Reward:MaxBatchSize=2", "--Reward:MaxCompletionBytes=1000"];
}
