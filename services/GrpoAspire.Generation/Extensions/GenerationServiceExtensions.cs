using Grpc.AspNetCore.Server;
using Grpc.Net.ClientFactory;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using GrpoAspire.Generation.Options;
using GrpoAspire.Generation.Policy;
using GrpoAspire.Generation.Rollouts;
using GrpoAspire.Generation.Services;
using GrpoAspire.Generation.Weights;
using GrpoAspire.WeightSync;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace GrpoAspire.Generation.Extensions;

public static class GenerationServiceExtensions
{
    /// <summary>Largest gRPC message the service accepts (a Generate request of long prompts).</summary>
    private const int MaxReceiveMessageBytes = 16 * 1024 * 1024;

    /// <summary>The RPC that needs the run's bearer token: it spends the model's time. GetGenerationStatus stays open.</summary>
    public static readonly string GenerateMethod =
        $"/{GenerationService.Descriptor.FullName}/{nameof(GenerationService.GenerationServiceClient.Generate)}";

    public static IHostApplicationBuilder AddGenerationServices(this IHostApplicationBuilder builder)
    {
        var token = builder.Configuration[$"{GenerationOptions.SectionName}:{nameof(GenerationOptions.Token)}"] is { Length: > 0 } own
            ? own
            : builder.Configuration["Security:Token"];
        if (string.IsNullOrEmpty(token))
        {
            throw new InvalidOperationException(
                "the generation replica needs a bearer token for Generate and the trainer's weight RPCs: set Security__Token (or Generation__Token)");
        }

        builder.Services.AddOptions<GenerationOptions>()
            .BindConfiguration(GenerationOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<GenerationOptions>, GenerationOptionsValidator>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.EnableDetailedErrors = builder.Environment.IsDevelopment();
            grpc.MaxReceiveMessageSize = MaxReceiveMessageBytes;
        });
        builder.Services.AddGrpcBearerToken(token, GenerateMethod);
        builder.Services.AddSingleton<GenerateAdmission>();

        builder.Services.AddSingleton<PolicyHost>();
        builder.Services.AddSingleton<GenerationStatistics>();
        builder.Services.AddSingleton(new WeightsToken(token));

        // Redis: the run's job and rollout streams and the weight announcements.
        builder.AddGrpoRedis(ResourceNames.Redis);
        builder.Services.AddSingleton(sp => new RunKeys(sp.GetRequiredService<IOptions<GenerationOptions>>().Value.Run));
        builder.Services.AddSingleton(sp => new CoordinationOptions
        {
            ReclaimMinIdle = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<GenerationOptions>>().Value.ReclaimIdleSeconds),
        });
        builder.Services.AddSingleton(sp => new RolloutJobQueue(
            sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RunKeys>(), sp.GetRequiredService<CoordinationOptions>(),
            sp.GetRequiredService<ILogger<RolloutJobQueue>>()));
        builder.Services.AddSingleton(sp => new RolloutStream(
            sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RunKeys>(), sp.GetRequiredService<CoordinationOptions>()));
        builder.Services.AddSingleton(sp => new WeightAnnouncer(
            sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RunKeys>(), sp.GetRequiredService<ILogger<WeightAnnouncer>>()));

        // The reward service: short unary calls (the default resilience applies).
        builder.Services.AddGrpcClient<RewardService.RewardServiceClient>(o => o.Address = ResourceNames.GrpcAddress(ResourceNames.Reward));
        builder.Services.AddSingleton<RolloutScorer>();

        AddWeightStreams(builder);
        builder.Services.AddSingleton<WeightFollower>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WeightFollower>());
        builder.Services.AddHostedService<RolloutWorker>();
        return builder;
    }

    /// <summary>
    /// The trainer's weight streams: long, so no resilience handler (its total timeout would cut them); bounded
    /// messages. One named client per stream of a pull (<see cref="GenerationOptions.WeightStreams"/>): each has its own
    /// handler, so its own HTTP/2 connection.
    /// </summary>
    private static void AddWeightStreams(IHostApplicationBuilder builder)
    {
        static string Name(int stream) => $"weights-{stream}";
        var streams = Math.Clamp(
            builder.Configuration.GetValue($"{GenerationOptions.SectionName}:{nameof(GenerationOptions.WeightStreams)}", 1),
            1, WeightShards.MaxShards); // out of range fails the options' validation at start
        for (var stream = 0; stream < streams; stream++)
        {
#pragma warning disable EXTEXP0001 // experimental, and the only way to take the default handler off one client
            builder.Services.AddGrpcClient<WeightsClient>(Name(stream), o => o.Address = ResourceNames.GrpcAddress(ResourceNames.Trainer))
                .ConfigureChannel(channel => channel.MaxReceiveMessageSize = WeightChunker.MaxMessageBytes)
                .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        }

        builder.Services.AddSingleton(sp => new WeightPullStreams(
            [.. Enumerable.Range(0, streams).Select(s => sp.GetRequiredService<GrpcClientFactory>().CreateClient<WeightsClient>(Name(s)))]));
    }
}
