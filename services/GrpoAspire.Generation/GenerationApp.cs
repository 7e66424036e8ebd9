using GrpoAspire.Generation.Extensions;
using GrpoAspire.Generation.Policy;
using GrpoAspire.Generation.Services;

namespace GrpoAspire.Generation;

/// <summary>
/// Builds a generation replica; <c>Program</c> runs it. Endpoints as the reward service: <c>Grpc</c> (HTTP/2) and
/// <c>Http</c> (HTTP/1.1: /health, /alive), loopback unless <c>Kestrel__Endpoints__*__Url</c> says otherwise.
/// </summary>
public static class GenerationApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = ServiceDefaultsExtensions.CreateServiceBuilder(args, typeof(GenerationApp).Assembly);
        builder.AddGenerationServices();

        var app = builder.Build();
        // Load the model before taking traffic: a bad model path fails the start with its message.
        app.Services.GetRequiredService<PolicyHost>();
        app.MapGrpcService<GenerationGrpcService>();
        app.MapDefaultEndpoints();
        return app;
    }
}
