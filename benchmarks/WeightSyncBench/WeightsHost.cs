using System.Net;
using Grpc.Net.Client;
using GrpoAspire.Contracts.V1;
using GrpoAspire.WeightSync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WeightSyncBench;

/// <summary>
/// The trainer's side (<see cref="WeightsGrpcService"/> over a <see cref="WeightStore"/>, guarded by a bearer token, in
/// Kestrel on a free loopback port, HTTP/2 cleartext) and the replica's channel to it, set up as the two services do.
/// </summary>
internal sealed class WeightsHost : IAsyncDisposable
{
    public const string Token = "weight-sync-bench-token";

    private readonly WebApplication _app;

    private WeightsHost(WebApplication app, Uri address, int? clientWindowBytes)
    {
        _app = app;
        Address = address;
        Channel = ReplicaChannel(address, clientWindowBytes);
        Client = new WeightsService.WeightsServiceClient(Channel);
        Weights = new WeightsClient(Channel);
    }

    /// <summary>A replica's channel to the weights service: its own handler, so its own HTTP/2 connection.</summary>
    /// <param name="windowBytes">The initial HTTP/2 stream window; null for .NET's default.</param>
    public static GrpcChannel ReplicaChannel(Uri address, int? windowBytes = null)
    {
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (windowBytes is { } window)
        {
            handler.InitialHttp2StreamWindowSize = window;
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = WeightChunker.MaxMessageBytes, HttpHandler = handler });
    }

    public Uri Address { get; }

    public GrpcChannel Channel { get; }

    public WeightsService.WeightsServiceClient Client { get; }

    /// <summary>The replica's pulling client (the generation service's), on the same channel.</summary>
    public WeightsClient Weights { get; }

    /// <param name="clientWindowBytes">The client's initial HTTP/2 stream window; null for .NET's default.</param>
    /// <param name="serverResponseBufferBytes">Kestrel's MaxResponseBufferSize; null for its default.</param>
    public static async Task<WeightsHost> StartAsync(WeightStore store, int? clientWindowBytes = null, long? serverResponseBufferBytes = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            if (serverResponseBufferBytes is { } buffer)
            {
                kestrel.Limits.MaxResponseBufferSize = buffer;
            }
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IWeightSource>(store);
        builder.Services.AddGrpcBearerToken(Token, WeightsService.Descriptor.FullName);

        var app = builder.Build();
        app.MapGrpcService<WeightsGrpcService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features
            .GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new WeightsHost(app, new Uri(address), clientWindowBytes);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
