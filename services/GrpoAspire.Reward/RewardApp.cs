using GrpoAspire.Reward.Extensions;
using GrpoAspire.Reward.Services;

namespace GrpoAspire.Reward;

/// <summary>
/// Builds the reward service; <c>Program</c> runs it and the tests start it in-process.
/// </summary>
/// <remarks>
/// Kestrel cannot serve cleartext HTTP/2 and HTTP/1.1 on one port (without TLS there is no ALPN, and .NET 10
/// does not sniff the HTTP/2 preface: dotnet/aspnetcore#56984), so appsettings.json declares two loopback
/// endpoints: <c>Grpc</c> (HTTP/2, 5081) for gRPC and gRPC health, <c>Http</c> (HTTP/1.1, 5082) for
/// <c>/health</c> and <c>/alive</c>. Override them with <c>Kestrel__Endpoints__Grpc__Url</c> and
/// <c>Kestrel__Endpoints__Http__Url</c> (what Aspire injects for Kestrel endpoints); named endpoints take
/// precedence over <c>ASPNETCORE_URLS</c>.
/// </remarks>
public static class RewardApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = ServiceDefaultsExtensions.CreateServiceBuilder(args, typeof(RewardApp).Assembly);
        builder.AddRewardServices();

        var app = builder.Build();
        app.UseRewardMiddleware();
        app.MapGrpcService<RewardGrpcService>();
        app.MapDefaultEndpoints();
        return app;
    }
}
