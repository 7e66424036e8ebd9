using GrpoAspire.Trainer.Extensions;
using GrpoAspire.Trainer.RunPage;
using GrpoAspire.Trainer.Services;
using GrpoAspire.WeightSync;

namespace GrpoAspire.Trainer;

/// <summary>
/// Builds the trainer service; <c>Program</c> runs it. Endpoints as the reward service: <c>Grpc</c> (HTTP/2: weights,
/// status, control) and <c>Http</c> (HTTP/1.1: /health, /alive, the run page /run), loopback unless
/// <c>Kestrel__Endpoints__*__Url</c> says otherwise.
/// </summary>
public static class TrainerApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = ServiceDefaultsExtensions.CreateServiceBuilder(args, typeof(TrainerApp).Assembly);
        builder.AddTrainerServices();

        var app = builder.Build();
        app.MapGrpcService<WeightsGrpcService>();
        app.MapGrpcService<TrainerGrpcService>();
        app.MapDefaultEndpoints();
        app.MapRunPage();
        return app;
    }
}
