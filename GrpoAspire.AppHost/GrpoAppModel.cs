using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using GrpoAspire.AppHost.Resources;

namespace GrpoAspire.AppHost;

/// <summary>The run the app model is built for: the resolved recipe and run folder.</summary>
public sealed record RunSettings(string Recipe, string Output);

/// <summary>
/// GrpoAspire's app model: redis-server, the reward service, the trainer (with its commands and run page) and the
/// generation replicas, wired by references (connection string, service discovery), started in dependency order once
/// what they wait for is healthy, with one bearer token per run for the weight and control RPCs.
/// </summary>
public static class GrpoAppModel
{
    /// <summary>The AppHost's secret parameter: <c>Parameters__token</c> sets it, else each run makes its own.</summary>
    public const string TokenParameter = "token";

    /// <summary>A resource whose dependency exits or fails to start fails to start too, instead of waiting forever.</summary>
    private const WaitBehavior FailFast = WaitBehavior.StopOnResourceUnavailable;

    public static RunSettings AddGrpoResources(this IDistributedApplicationBuilder builder, AppHostArguments arguments)
    {
        var repoRoot = RepoRoot();
        var recipe = Resolve(arguments.Recipe, repoRoot) ?? throw new ArgumentException($"--recipe: '{arguments.Recipe}' does not exist");
        var output = Path.GetFullPath(arguments.Output ?? Path.Combine(repoRoot, "runs", $"apphost-{DateTime.Now:yyyyMMdd-HHmmss}"));
        var settings = new RunSettings(recipe, output);
        var configuredToken = builder.Configuration[$"Parameters:{TokenParameter}"];
        var generatedToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        var token = builder.AddParameter(TokenParameter, () => string.IsNullOrEmpty(configuredToken) ? generatedToken : configuredToken, secret: true);

        var redis = builder.AddRedisServer(ResourceNames.Redis);
        var reward = builder.AddRewardService(arguments, repoRoot);
        var (trainer, client) = builder.AddTrainer(arguments, settings, redis, reward, token);
        builder.AddGenerationReplicas(arguments, redis, reward, trainer, client, token);

        builder.Services.AddSingleton(settings);
        var outcome = new RunOutcome();
        builder.Services.AddSingleton(outcome);
        // A trainer that fails at once ends an app still starting (replicas wait for it): the host then reports its start
        // cut short with a stack trace, after the trainer's own error and the summary. That report says nothing new.
        builder.Services.AddLogging(logging => logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host",
            level => level >= LogLevel.Information && !outcome.TrainerExited.IsCompleted));
        builder.Services.AddSingleton(Console.Out);
        // From the start of the app, not once it has started: a warm start can keep the replicas waiting for a long time.
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            ResourceConsole.Start(e.Services);
            TrainingWatcher.Start(e.Services);
            return Task.CompletedTask;
        });
        return settings;
    }

    /// <summary>
    /// The reward service: the built-in project, a project given with <c>--reward-project</c>, or, with <c>--reward-url</c>,
    /// one already running elsewhere: an external service in the dashboard, which the replicas find by service discovery.
    /// </summary>
    private static RewardResource AddRewardService(this IDistributedApplicationBuilder builder, AppHostArguments arguments, string repoRoot)
    {
        if (arguments.RewardUrl is { } url)
        {
            builder.AddExternalService(ResourceNames.Reward, url);
            return new RewardResource(null, url);
        }

        var project = (arguments.RewardProject is { } rewardProject
            ? builder.AddProject(ResourceNames.Reward, Resolve(rewardProject, repoRoot) ?? throw new ArgumentException($"--reward-project: '{rewardProject}' does not exist"), ServiceEndpoints.Own)
            : builder.AddProject<Projects.GrpoAspire_Reward>(ResourceNames.Reward, ServiceEndpoints.Own)).WithServiceEndpoints();
        return new RewardResource(project, null);
    }

    private static (IResourceBuilder<ProjectResource> Trainer, TrainerClient Client) AddTrainer(
        this IDistributedApplicationBuilder builder, AppHostArguments arguments, RunSettings settings,
        IResourceBuilder<RedisServerResource> redis, RewardResource reward, IResourceBuilder<ParameterResource> token)
    {
        var trainer = builder.AddProject<Projects.GrpoAspire_Trainer>(ResourceNames.Trainer, ServiceEndpoints.Own).WithServiceEndpoints()
            .WithReference(redis).WaitFor(redis, FailFast).WaitForReward(reward)
            .WithEnvironment("Security__Token", token)
            .WithEnvironment("Trainer__Run", arguments.Run)
            .WithEnvironment("Trainer__Recipe", settings.Recipe)
            .WithEnvironment("Trainer__Output", settings.Output)
            .WithEnvironment("Trainer__ExitWhenDone", arguments.ExitWhenDone ? "true" : "false");
        Optional(trainer, "Trainer__MaxSteps", arguments.MaxSteps?.ToString(CultureInfo.InvariantCulture));
        Optional(trainer, "Trainer__Model", arguments.Model is null ? null : Path.GetFullPath(arguments.Model));
        Optional(trainer, "Trainer__Dataset", arguments.Dataset is null ? null : Path.GetFullPath(arguments.Dataset));
        var client = new TrainerClient(trainer.GetEndpoint(ResourceNames.GrpcEndpoint), token.Resource);
        var http = trainer.GetEndpoint(ServiceEndpoints.Http);
        trainer.WithUrl(ReferenceExpression.Create($"{http.Property(EndpointProperty.Url)}/run"), "Run page")
            .WithTrainerCommands(client);
        return (trainer, client);
    }

    /// <summary><c>generation</c>, or <c>generation-1</c> .. <c>generation-N</c>: each its own consumer in the job group.</summary>
    private static void AddGenerationReplicas(
        this IDistributedApplicationBuilder builder, AppHostArguments arguments, IResourceBuilder<RedisServerResource> redis,
        RewardResource reward, IResourceBuilder<ProjectResource> trainer, TrainerClient client,
        IResourceBuilder<ParameterResource> token)
    {
        for (var i = 1; i <= arguments.Replicas; i++)
        {
            var name = arguments.Replicas == 1 ? ResourceNames.Generation : $"{ResourceNames.Generation}-{i}";
            builder.AddProject<Projects.GrpoAspire_Generation>(name, ServiceEndpoints.Own).WithServiceEndpoints()
                .WithReference(redis).WithReward(reward).WithReference(trainer)
                .WaitForReward(reward).WaitFor(trainer, FailFast)
                .WithEnvironment("Security__Token", token)
                .WithEnvironment("Generation__Run", arguments.Run)
                .WithEnvironment("Generation__Replica", name)
                // The trainer knows the starting model (a folder, or random:tiny made in its run folder) once it loaded it;
                // a deployment mounts it instead (deploy/k8s: /models).
                .WithEnvironment(async context =>
                {
                    if (context.ExecutionContext.IsRunMode)
                    {
                        context.EnvironmentVariables["Generation__ModelPath"] = await client.StartingModelAsync(context.CancellationToken);
                    }
                });
        }
    }

    private static IResourceBuilder<ProjectResource> WaitForReward(this IResourceBuilder<ProjectResource> resource, RewardResource reward) =>
        reward.Project is { } project ? resource.WaitFor(project, FailFast) : resource;

    /// <summary>The reward service's gRPC address for service discovery (<c>http://_grpc.reward</c>).</summary>
    private static IResourceBuilder<ProjectResource> WithReward(this IResourceBuilder<ProjectResource> resource, RewardResource reward) =>
        reward.Project is { } project
            ? resource.WithReference(project)
            : resource.WithEnvironment($"services__{ResourceNames.Reward}__{ResourceNames.GrpcEndpoint}__0", reward.Url!.ToString());

    /// <summary>A reward service the app runs (<see cref="Project"/>) or one it only points to (<see cref="Url"/>).</summary>
    private sealed record RewardResource(IResourceBuilder<ProjectResource>? Project, Uri? Url);

    private static void Optional(IResourceBuilder<ProjectResource> resource, string name, string? value)
    {
        if (value is not null)
        {
            resource.WithEnvironment(name, value);
        }
    }

    private static string? Resolve(string path, string repoRoot) =>
        File.Exists(path) ? Path.GetFullPath(path)
        : File.Exists(Path.Combine(repoRoot, path)) ? Path.GetFullPath(Path.Combine(repoRoot, path))
        : null;

    /// <summary>The repository the AppHost was built in (recipes and the default run folder live there).</summary>
    public static string RepoRoot() =>
        typeof(GrpoAppModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "RepoRoot")?.Value
        ?? Directory.GetCurrentDirectory();
}
