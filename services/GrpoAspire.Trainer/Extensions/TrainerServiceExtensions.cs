using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using GrpoAspire.Trainer.Options;
using GrpoAspire.Trainer.Training;
using GrpoAspire.WeightSync;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace GrpoAspire.Trainer.Extensions;

public static class TrainerServiceExtensions
{
    /// <summary>The trainer's control RPCs, which need the bearer token (GetTrainerStatus stays open).</summary>
    public static readonly IReadOnlyList<string> ControlMethods =
    [
        $"/{TrainerService.Descriptor.FullName}/{nameof(TrainerService.TrainerServiceClient.StopTraining)}",
        $"/{TrainerService.Descriptor.FullName}/{nameof(TrainerService.TrainerServiceClient.RequestCheckpoint)}",
        $"/{TrainerService.Descriptor.FullName}/{nameof(TrainerService.TrainerServiceClient.RequestEvaluation)}",
    ];

    public static IHostApplicationBuilder AddTrainerServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrainerOptions>()
            .BindConfiguration(TrainerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var token = builder.Configuration[$"{TrainerOptions.SectionName}:Token"] is { Length: > 0 } own ? own : builder.Configuration["Security:Token"];
        if (string.IsNullOrEmpty(token))
        {
            throw new InvalidOperationException(
                "the trainer needs a bearer token for its weight and control RPCs: set Security__Token (or Trainer__Token)");
        }

        builder.Services.AddGrpc(grpc => grpc.EnableDetailedErrors = builder.Environment.IsDevelopment());
        // Weight and control RPCs need the token; status, health and the run page stay open.
        builder.Services.AddGrpcBearerToken(token, [WeightsService.Descriptor.FullName, .. ControlMethods]);

        builder.AddGrpoRedis(ResourceNames.Redis);
        builder.Services.AddSingleton(sp => new RunKeys(sp.GetRequiredService<IOptions<TrainerOptions>>().Value.Run));
        builder.Services.AddSingleton(sp =>
        {
            var trainer = sp.GetRequiredService<IOptions<TrainerOptions>>().Value;
            return new CoordinationOptions
            {
                LostJobCheckInterval = TimeSpan.FromSeconds(trainer.LostJobCheckSeconds),
                MaxOutage = TimeSpan.FromSeconds(trainer.RedisOutageSeconds),
            };
        });
        builder.Services.AddSingleton(sp => new RolloutJobQueue(
            sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RunKeys>(), sp.GetRequiredService<CoordinationOptions>(),
            sp.GetRequiredService<ILogger<RolloutJobQueue>>()));
        builder.Services.AddSingleton(sp => new WeightAnnouncer(
            sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RunKeys>(), sp.GetRequiredService<ILogger<WeightAnnouncer>>()));
        builder.Services.AddSingleton(sp => new TrainerStateStore(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RunKeys>()));

        builder.Services.AddSingleton(sp => new WeightStore(sp.GetRequiredService<IOptions<TrainerOptions>>().Value.KeepVersions));
        builder.Services.AddSingleton<IWeightSource>(sp => sp.GetRequiredService<WeightStore>());
        builder.Services.AddSingleton<TrainingStatus>();
        builder.Services.AddSingleton<TrainerControl>();
        builder.Services.AddHealthChecks().AddCheck<TrainerHealthCheck>("training");
        builder.Services.AddSingleton<AnnouncementKeeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AnnouncementKeeper>());
        builder.Services.AddSingleton<TrainerWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TrainerWorker>());
        return builder;
    }
}
