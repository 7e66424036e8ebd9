using Grpc.AspNetCore.Server;
using Microsoft.Extensions.DependencyInjection;

namespace GrpoAspire.WeightSync;

public static class BearerTokenServiceCollectionExtensions
{
    /// <summary>
    /// Requires <c>authorization: Bearer &lt;token&gt;</c> on the named services or methods of every gRPC service this
    /// host maps (e.g. <c>AddGrpcBearerToken(token, WeightsGrpcService.GetWeightsMethod)</c>); other methods stay open.
    /// The interceptor is one singleton, registered for all services, so a controller service added later is guarded by
    /// naming it here. Call once per host: two tokens would make every guarded call fail one of them.
    /// </summary>
    /// <param name="protectedNames">
    /// Service full names ("grpo.v1.WeightsService") or method paths ("/grpo.v1.WeightsService/GetWeights").
    /// </param>
    public static IServiceCollection AddGrpcBearerToken(
        this IServiceCollection services, string token, params string[] protectedNames)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(BearerTokenInterceptor)))
        {
            throw new InvalidOperationException("AddGrpcBearerToken was already called for this host; one token guards all its services");
        }

        // Built here, so a bad token or name fails at start-up, not on the first call.
        services.AddSingleton(new BearerTokenInterceptor(token, protectedNames));
        // Without arguments, gRPC resolves an interceptor registered in DI (this singleton) instead of creating one per call.
        services.Configure<GrpcServiceOptions>(options => options.Interceptors.Add<BearerTokenInterceptor>());
        return services;
    }
}
