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
/// training is over, <c>Trainer__ExitWhenDone</c>), prints the run summary, records the trainer's exit code and stops
/// the AppHost, which stops every resource. Aspire keeps an app up when a resource finishes, hence this watcher. It
/// watches from the start of the app: a trainer that fails while others still wait for it ends the app too.
/// </summary>
internal static class TrainingWatcher
{
    public static void Start(IServiceProvider services)
    {
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        _ = WatchAsync(notifications, lifetime, services.GetRequiredService<RunOutcome>(), services.GetRequiredService<RunSettings>(),
            services.GetRequiredService<TextWriter>());
    }

    private static async Task WatchAsync(
        ResourceNotificationService notifications, IHostApplicationLifetime lifetime, RunOutcome outcome, RunSettings settings, TextWriter console)
    {
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
        outcome.SetTrainerExit(exitCode);
        RunSummary.Write(console, settings.Output, exitCode == 0 ? "finished" : $"failed (trainer exit code {exitCode})", DateTime.UtcNow - started);
        lifetime.StopApplication();
    }
}
