using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Grpc.Net.Client;
using GrpoAspire.AppHost.Hosting;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Dashboard;
using GrpoAspire.Dashboard.Completions;
using Microsoft.Extensions.Hosting;

namespace GrpoAspire.AppHost;

/// <summary>
/// The app model of GrpoAspire: redis, the reward service, the trainer and the generation replicas, with their
/// references, a bearer token made for this run, and (with <c>--exit-when-done</c>) a watch on the trainer that ends
/// the run when training does.
/// </summary>
public static class AppHostRunner
{
    public static async Task<int> RunAsync(AppHostArguments arguments, TextWriter console)
    {
        var builder = new DistributedApplicationBuilder();
        var recipe = Resolve(arguments.Recipe, builder.RepoRoot)
            ?? throw new ArgumentException($"--recipe: '{arguments.Recipe}' does not exist");
        var output = Path.GetFullPath(arguments.Output ?? Path.Combine(builder.RepoRoot, "runs", $"apphost-{DateTime.Now:yyyyMMdd-HHmmss}"));
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

        ProcessResource redis;
        try
        {
            redis = builder.AddRedis(ResourceNames.Redis);
        }
        catch (MissingToolException e)
        {
            console.WriteLine($"apphost: {e.Message}");
            return 1;
        }

        var reward = builder.AddProject(ResourceNames.Reward, "GrpoAspire.Reward");
        var trainer = builder.AddProject(ResourceNames.Trainer, "GrpoAspire.Trainer")
            .WithReference(redis).WaitFor(redis).WaitFor(reward)
            .WithEnvironment("Security__Token", token)
            .WithEnvironment("Trainer__Run", arguments.Run)
            .WithEnvironment("Trainer__Recipe", recipe)
            .WithEnvironment("Trainer__Output", output);
        Optional(trainer, "Trainer__MaxSteps", arguments.MaxSteps?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Optional(trainer, "Trainer__Model", arguments.Model is null ? null : Path.GetFullPath(arguments.Model));
        Optional(trainer, "Trainer__Dataset", arguments.Dataset is null ? null : Path.GetFullPath(arguments.Dataset));

        for (var i = 1; i <= arguments.Replicas; i++)
        {
            var name = arguments.Replicas == 1 ? ResourceNames.Generation : $"{ResourceNames.Generation}-{i}";
            var replica = builder.AddProject(name, "GrpoAspire.Generation")
                .WithReference(redis).WithReference(reward).WithReference(trainer)
                .WaitFor(reward).WaitFor(trainer)
                .WithEnvironment("Security__Token", token)
                .WithEnvironment("Generation__Run", arguments.Run)
                .WithEnvironment("Generation__Replica", name);
            // The trainer knows the starting model (a folder, or random:tiny made in its run folder) once it loaded it.
            replica.BeforeStart = async cancellationToken =>
                replica.Environment["Generation__ModelPath"] = await StartingModelAsync(trainer, cancellationToken);
        }

        DashboardHost? dashboardHost = null;
        try
        {
            dashboardHost = arguments.Dashboard
                ? await DashboardHost.StartAsync(
                    new DashboardOptions { UiPort = arguments.DashboardPort, OtlpGrpcPort = arguments.DashboardPort == 0 ? 0 : 18889, OtlpHttpPort = arguments.DashboardPort == 0 ? 0 : 18890 },
                    new AppModelCatalog(builder.Resources), CompletionSamplesFile.ForRun(output))
                : null;
        }
        catch (IOException e)
        {
            // Kestrel's "address already in use": most often another AppHost still running.
            console.WriteLine($"apphost: the dashboard cannot listen ({e.Message}); is another AppHost running? "
                + "Stop it, or pass --dashboard-port 0 (free ports) or --no-dashboard");
            return 1;
        }

        await using var dashboard = dashboardHost;
        if (dashboard is not null)
        {
            // Every service exports traces, metrics and logs to the dashboard (Aspire's OTEL_* contract).
            builder.SharedEnvironment["OTEL_EXPORTER_OTLP_ENDPOINT"] = dashboard.OtlpGrpcUrl.ToString().TrimEnd('/');
            builder.SharedEnvironment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc";
            builder.SharedEnvironment["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
            builder.SharedEnvironment["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
            console.WriteLine($"[apphost] dashboard: {dashboard.UiUrl}");
        }

        var app = builder.Build(console);
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        console.WriteLine($"[apphost] run '{arguments.Run}': recipe {recipe}, run folder {output}");

        string? outcome = null;
        var started = DateTime.UtcNow;
        var watch = Task.Run(async () =>
        {
            outcome = await WaitForTrainingAsync(trainer, stop.Token);
            if (outcome is not null)
            {
                RunSummary.Write(console, output, outcome, DateTime.UtcNow - started);
                if (arguments.ExitWhenDone)
                {
                    await stop.CancelAsync();
                }
                else
                {
                    console.WriteLine("[apphost] --keep-running: services and dashboard stay up; Ctrl+C stops them");
                }
            }
        });
        await app.RunAsync(stop.Token);
        await stop.CancelAsync();
        await watch;

        if (app.FailureMessage is { } failure)
        {
            console.WriteLine($"[apphost] failed: {failure}");
            return 1;
        }

        if (arguments.ExitWhenDone)
        {
            console.WriteLine($"[apphost] training {outcome ?? "did not finish"}");
            return outcome == "finished" ? 0 : 1;
        }

        return 0;
    }

    private static void Optional(ProcessResource resource, string name, string? value)
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

    private static async Task<GetTrainerStatusResponse> TrainerStatusAsync(ProcessResource trainer, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(trainer.Endpoints["grpc"]);
        return await new TrainerService.TrainerServiceClient(channel).GetTrainerStatusAsync(new GetTrainerStatusRequest(), cancellationToken: cancellationToken);
    }

    private static async Task<string> StartingModelAsync(ProcessResource trainer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = await TrainerStatusAsync(trainer, cancellationToken);
            if (status.ModelFolder.Length > 0)
            {
                return status.ModelFolder;
            }

            if (status.Status == "failed")
            {
                throw new InvalidOperationException($"the trainer failed before loading its model: {status.Error}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>Polls the trainer until it finished, stopped or failed; returns that status (null when the app stopped first).</summary>
    private static async Task<string?> WaitForTrainingAsync(ProcessResource trainer, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
                if (trainer.State != ResourceState.Running)
                {
                    continue;
                }

                var status = (await TrainerStatusAsync(trainer, stop)).Status;
                if (status is "finished" or "failed" or "stopped")
                {
                    return status;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Grpc.Core.RpcException)
        {
            // The trainer went away: the app model reports its exit.
        }

        return null;
    }
}
