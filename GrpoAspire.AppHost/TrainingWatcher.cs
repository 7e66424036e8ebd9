namespace GrpoAspire.AppHost;

/// <summary>How the run ended: the trainer's exit code, which the AppHost passes on.</summary>
public sealed class RunOutcome
{
    private readonly TaskCompletionSource<int> _exitCode = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the trainer process has exited, with its exit code.</summary>
    public Task<int> TrainerExited => _exitCode.Task;

    /// <summary>The AppHost's exit code: the trainer's, or 1 when the AppHost stopped before the trainer ended.</summary>
    public int ExitCode => _exitCode.Task.IsCompletedSuccessfully ? _exitCode.Task.Result : 1;

    internal void SetTrainerExit(int exitCode) => _exitCode.TrySetResult(exitCode);
}

/// <summary>
/// Ends the app when training does: once the trainer resource reaches a terminal state (it exits by itself when
/// training is over, <c>Trainer__ExitWhenDone</c>), prints the run summary, records the trainer's exit code, stops the
/// other resources (replicas first, then reward and redis) and waits for them while the dashboard still receives their
/// last telemetry, then stops the AppHost. Aspire keeps an app up when a resource finishes, hence this watcher. It
/// watches from the start of the app: a trainer that fails while others still wait for it ends the app too.
/// </summary>
internal static class TrainingWatcher
{
    public static void Start(IServiceProvider services)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await WatchAsync(services);
            }
            catch (Exception e)
            {
                // Without the watcher nothing would end the app: say why, and end it.
                services.GetRequiredService<TextWriter>().WriteLine($"[apphost] watching the trainer failed: {e.Message}");
                services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
            }
        });
    }

    private static async Task WatchAsync(IServiceProvider services)
    {
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var settings = services.GetRequiredService<RunSettings>();
        var started = DateTime.UtcNow;
        ResourceEvent ended;
        try
        {
            ended = await notifications.WaitForResourceAsync(ResourceNames.Trainer,
                e => e.Snapshot.State?.Text is { } state && KnownResourceStates.TerminalStates.Contains(state), lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        // A trainer that never started (FailedToStart) has no exit code: that is a failure too.
        var exitCode = ended.Snapshot.ExitCode ?? 1;
        services.GetRequiredService<RunOutcome>().SetTrainerExit(exitCode);
        RunSummary.Write(services.GetRequiredService<TextWriter>(), settings.Output,
            exitCode == 0 ? "finished" : $"failed (trainer exit code {exitCode})", DateTime.UtcNow - started);
        // Running ones only: a replica still waiting for a trainer that failed at once has nothing to stop.
        var running = services.GetRequiredService<DistributedApplicationModel>().Resources
            .Where(r => notifications.TryGetCurrentState(r.Name, out var e) && e.Snapshot.State?.Text == KnownResourceStates.Running).ToArray();
        await StopAsync(services, running.Where(r => r is ProjectResource && r.Name is not (ResourceNames.Trainer or ResourceNames.Reward)));
        await StopAsync(services, running.Where(r => r.Name is ResourceNames.Reward or ResourceNames.Redis));
        lifetime.StopApplication();
    }

    /// <summary>Aspire's stop command on each resource at once, waiting (60 s at most) until all are stopped.</summary>
    private static async Task StopAsync(IServiceProvider services, IEnumerable<IResource> resources)
    {
        var commands = services.GetRequiredService<ResourceCommandService>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await Task.WhenAll(resources.Select(r => commands.ExecuteCommandAsync(r, KnownResourceCommands.StopCommand, timeout.Token)));
        }
        catch (OperationCanceledException)
        {
            // Whatever is still running stops with the app.
        }
    }
}
