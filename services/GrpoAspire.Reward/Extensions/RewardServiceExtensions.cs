using Grpc.AspNetCore.Server;
using GrpoAspire.Reward.Admission;
using GrpoAspire.Reward.Options;
using GrpoAspire.Reward.Scoring;
using GrpoAspire.Reward.Services;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace GrpoAspire.Reward.Extensions;

public static class RewardServiceExtensions
{
    /// <summary>
    /// Options, scoring, and gRPC bounded by <see cref="RewardOptions.MaxReceiveMessageBytes"/> per message and
    /// <see cref="RewardOptions.MaxInFlightMessageBytes"/> over all calls (see <see cref="UseRewardMiddleware"/>).
    /// </summary>
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

        builder.Services.AddSingleton(sp => new MessageBudget(sp.GetRequiredService<IOptions<RewardOptions>>().Value.MaxInFlightMessageBytes));
        builder.Services.AddSingleton(BuiltInTasks.BuiltInTasks.Catalog);
        builder.Services.AddSingleton<ScoreRequestMapper>();
        builder.Services.AddSingleton<CompletionScoringService>();
        return builder;
    }

    /// <summary>
    /// Before the gRPC endpoints: messages admitted against the in-flight budget before they are buffered, and, outside
    /// Development, errors without exception text (the status is rewritten after the call, so that one goes first).
    /// </summary>
    public static WebApplication UseRewardMiddleware(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseMiddleware<GrpcErrorMiddleware>();
        }

        app.UseMiddleware<MessageAdmissionMiddleware>();
        return app;
    }
}
