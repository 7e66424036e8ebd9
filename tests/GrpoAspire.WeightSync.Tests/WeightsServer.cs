using System.Net;
using Grpc.Net.Client;
using GrpoAspire.Contracts.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>
/// <see cref="WeightsGrpcService"/> in a real Kestrel on a free loopback port (HTTP/2 cleartext, as between pods),
/// guarded by <see cref="BearerTokenServiceCollectionExtensions.AddGrpcBearerToken"/>, reached through a real channel.
/// </summary>
internal sealed class WeightsServer : IAsyncDisposable
{
    public const string Token = "s3cret-token-for-tests";

    private readonly WebApplication _app;

    private WeightsServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Channel = GrpcChannel.ForAddress(address);
        Client = new WeightsService.WeightsServiceClient(Channel);
        Weights = new WeightsClient(Channel);
    }

    public Uri Address { get; }

    public GrpcChannel Channel { get; }

    public WeightsService.WeightsServiceClient Client { get; }

    /// <summary>The replica's client of the same channel.</summary>
    public WeightsClient Weights { get; }

    /// <param name="protectedNames">What the token guards; by default GetWeights alone.</param>
    public static async Task<WeightsServer> StartAsync(IWeightSource source, params string[] protectedNames)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(source);
        builder.Services.AddGrpcBearerToken(Token, protectedNames.Length > 0 ? protectedNames : [WeightsGrpcService.GetWeightsMethod]);

        var app = builder.Build();
        app.MapGrpcService<WeightsGrpcService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features
            .GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new WeightsServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
