using Aspire.Hosting.Testing;
using Grpc.Net.Client;
using GrpoAspire.Contracts.V1;
using Microsoft.Extensions.DependencyInjection;

namespace GrpoAspire.AppHost.Tests;

/// <summary>
/// The AppHost's app model started by <c>Aspire.Hosting.Testing</c> (real DCP, redis-server and services, no dashboard),
/// its processes marked so that a test can check none outlives it.
/// </summary>
internal sealed class TestApp : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private TestApp(DistributedApplication app, ProcessMarker marker, string output)
    {
        App = app;
        Marker = marker;
        Output = output;
    }

    public DistributedApplication App { get; }

    public ProcessMarker Marker { get; }

    /// <summary>The run folder (<c>--output</c>).</summary>
    public string Output { get; }

    public RunOutcome Outcome => App.Services.GetRequiredService<RunOutcome>();

    /// <summary>
    /// Builds and starts the app; with <paramref name="awaitStart"/> false it returns once the start is under way (an app
    /// whose trainer fails at once stops itself before Aspire's start completes).
    /// </summary>
    public static async Task<TestApp> StartAsync(string output, string[] args, bool awaitStart = true)
    {
        var marker = new ProcessMarker();
        // Inherited by DCP, which hands it to every resource.
        Environment.SetEnvironmentVariable(ProcessMarker.Variable, marker.Value);
        using var timeout = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.GrpoAspire_AppHost>(
            ["--recipe", TestPaths.SmokeRecipe, "--output", output, .. args], timeout.Token);
        foreach (var resource in builder.Resources.OfType<ProjectResource>())
        {
            // The testing builder starts no dashboard yet points the exporters at one: they would wait ~10 s at exit.
            builder.CreateResourceBuilder(resource).WithEnvironment("OTEL_SDK_DISABLED", "true");
        }

        var app = await builder.BuildAsync(timeout.Token);
        var start = app.StartAsync(timeout.Token);
        if (awaitStart)
        {
            await start;
        }

        return new TestApp(app, marker, output);
    }

    public async Task WaitHealthyAsync(params string[] resources)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        foreach (var resource in resources)
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
        }
    }

    public async Task<GetTrainerStatusResponse> TrainerStatusAsync()
    {
        using var channel = GrpcChannel.ForAddress(App.GetEndpoint(ResourceNames.Trainer, ResourceNames.GrpcEndpoint));
        return await new TrainerService.TrainerServiceClient(channel).GetTrainerStatusAsync(new GetTrainerStatusRequest());
    }

    /// <summary>Polls the trainer's status until <paramref name="done"/> holds (or fails after <paramref name="seconds"/>).</summary>
    public async Task<GetTrainerStatusResponse> UntilTrainerAsync(Func<GetTrainerStatusResponse, bool> done, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        GetTrainerStatusResponse status;
        while (!done(status = await TrainerStatusAsync()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the trainer did not reach '{what}' in {seconds} s; last status: {status}");
            await Task.Delay(200);
        }

        return status;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Environment.SetEnvironmentVariable(ProcessMarker.Variable, null);
    }
}
