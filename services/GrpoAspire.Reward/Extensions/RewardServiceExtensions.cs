using Grpc.AspNetCore.Server;
using GrpoAspire.Reward.Options;
using GrpoAspire.Reward.Scoring;
using GrpoAspire.Reward.Services;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace GrpoAspire.Reward.Extensions;

public static class RewardServiceExtensions
{
    /// <summary>Options, scoring, and gRPC bounded by <see cref="RewardOptions.MaxReceiveMessageBytes"/>.</summary>
    public static IHostApplicationBuilder AddRewardServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RewardOptions>()
            .BindConfiguration(RewardOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RewardOptions>, RewardOptionsValidator>();

        builder.Services.AddGrpc(grpc => grpc.EnableDetailedErrors = builder.Environment.IsDevelopment());
        builder.Services.AddOptions<GrpcServiceOptions>()
            .Configure<IOptions<RewardOptions>>((grpc, reward) =>
                grpc.MaxReceiveMessageSize = reward.Value.MaxReceiveMessageBytes);
        // gRPC bounds every message by that limit, a unary body holds one message, and streams lift Kestrel's
        // body limit themselves: Kestrel's 30 MB default would only cut unary batches that the limit allows.
        // The health endpoints read no body.
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = null);

        builder.Services.AddSingleton<ScoreRequestMapper>();
        builder.Services.AddSingleton<CompletionScoringService>();
        return builder;
    }
}
