using System.Diagnostics;
using GrpoAspire.Coordination;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Trainer.Options;
using GrpoAspire.WeightSync;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace GrpoAspire.Trainer.Training;

/// <summary>
/// Runs the recipe against the generation replicas: the same GRPO step as <c>grpo train</c>, with rollouts from
/// Redis, and after every step a new weight version published (served by the weight service, announced on
/// Redis), the step state saved in Redis and the operator's requests carried out (<see cref="TrainerControl"/>).
/// A restarted trainer resumes from the run folder's newest checkpoint (verified first: a corrupt one fails naming its bad
/// file and the newest intact one). With <c>Trainer:ExitWhenDone</c> the process ends with the run: exit code 0 when it
/// finished or was stopped, 2 when it failed on bad input (a corrupt checkpoint), 74 when storage failed (a full disk),
/// 1 for any other failure.
/// </summary>
internal sealed class TrainerWorker(
    RolloutJobQueue jobs,
    IConnectionMultiplexer redis,
    RunKeys keys,
    CoordinationOptions coordination,
    ILoggerFactory loggers,
    WeightAnnouncer announcer,
    AnnouncementKeeper announcements,
    TrainerStateStore stateStore,
    WeightStore weights,
    TrainingStatus status,
    TrainerControl control,
    IHostApplicationLifetime lifetime,
    IOptions<TrainerOptions> options,
    ILogger<TrainerWorker> logger) : BackgroundService
{
    /// <summary>Exit code of a failed run for an unexpected error (a bug, a libtorch failure).</summary>
    public const int FailedExitCode = 1;

    /// <summary>Exit code of a run failed on bad input (a corrupt checkpoint, a bad recipe or dataset), as <c>grpo train</c>'s.</summary>
    public const int BadInputExitCode = 2;

    /// <summary>Exit code of a run failed because storage did (no space left, quota, read-only, I/O error): EX_IOERR, as <c>grpo train</c>'s.</summary>
    public const int StorageExitCode = 74;

    private int _failureExitCode = FailedExitCode;

    /// <summary>Cancelled by a stop request once the step in progress is complete: the loop checks it between steps only.</summary>
    private readonly CancellationTokenSource _stopAfterStep = new();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task Run(CancellationToken stoppingToken)
    {
        // The loop ends between steps on a stop request or at shutdown; the rollouts of the step in progress are
        // cancelled by shutdown alone, so a stop request lets that step complete.
        using var loop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopAfterStep.Token);
        try
        {
            var lastStep = await TrainAsync(loop.Token, stoppingToken);
            End("finished", $"training is finished (step {lastStep})");
            await SaveStateAsync(lastStep, Coordination.TrainerStatus.Completed, CancellationToken.None);
            logger.LogInformation("run {Run} finished at step {Step}", options.Value.Run, lastStep);
        }
        catch (OperationCanceledException) when (loop.IsCancellationRequested)
        {
            var step = status.Snapshot().Step;
            End("stopped", $"training was stopped (step {step})");
            logger.LogInformation("training stopped at step {Step}{Why}", step, _stopAfterStep.IsCancellationRequested ? " (requested)" : string.Empty);
        }
        catch (Exception e)
        {
            var (code, message) = Failure(e, status.RunDirectory);
            _failureExitCode = code;
            End("failed", $"training failed: {message}", message);
            if (code == FailedExitCode)
            {
                logger.LogError(e, "training failed: {Message}", message);
            }
            else
            {
                // Bad input or storage: the message says what and where; a stack trace would only hide it.
                logger.LogError("training failed: {Message}", message);
            }
        }

        ExitWhenDone();
    }

    /// <summary>
    /// The run, step by step: each step's rollouts come from the replicas (asked for ahead when max_staleness allows), and
    /// after each the new weights are published and the operator's requests carried out. A stop request ends the loop
    /// between steps (<paramref name="loopToken"/>); shutdown cancels the step in progress too. Returns the last step done.
    /// </summary>
    private async Task<int> TrainAsync(CancellationToken loopToken, CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var loaded = RecipeLoader.LoadFile(settings.Recipe);
        foreach (var notice in loaded.Notices)
        {
            logger.LogInformation("{Notice}", notice);
        }

        var recipe = TrainingRun.Apply(loaded, new TrainingRunOptions { Output = settings.Output, Dataset = settings.Dataset, Model = settings.Model, Device = settings.Device, MaxSteps = settings.MaxSteps }).Recipe;
        var resume = CheckpointFolders.Latest(recipe.OutputDir) is null ? null : "latest";
        status.RunDirectory = Path.GetFullPath(recipe.OutputDir);
        status.Update(s => { s.Run = settings.Run; s.MaxSteps = recipe.MaxSteps; s.Status = "training"; });
        await RetryAsync(() => jobs.EnsureGroupAsync(loopToken), "creating the job queue's consumer group", loopToken);
        // Rollouts appended from now on: groups a previous trainer process asked for are not this one's.
        var collector = await RetryAsync(
            () => RolloutCollector.StartAtEndAsync(redis, keys, coordination, loggers.CreateLogger<RolloutCollector>(), cancellationToken: loopToken),
            "finding the end of the rollout stream", loopToken);
        var rollouts = new RemoteRolloutSource(new JobLedger(jobs), collector, recipe, announcer.Incarnation,
            TimeSpan.FromSeconds(settings.RolloutTimeoutSeconds), coordination, logger);
        using var trainer = await GrpoTrainer.OpenAsync(recipe, new TrainerStart(message => logger.LogInformation("{Message}", message), resume, rollouts), stoppingToken);
        await BeginAsync(trainer, resume is not null, stoppingToken);
        var actions = new ControlActions(status, logger);
        while (!trainer.IsFinished)
        {
            loopToken.ThrowIfCancellationRequested();
            var step = await trainer.StepAsync(stoppingToken);
            await AfterStepAsync(trainer, step, stoppingToken);
            if (await actions.ApplyAsync(control.Take(step.Step), trainer, step))
            {
                _stopAfterStep.Cancel();
            }
        }

        return trainer.GlobalStep;
    }

    /// <summary>
    /// The trainer is loaded: control requests are taken from now on, and its weights are announced, version 0 included,
    /// under this process's incarnation: replicas may serve a previous trainer's weights of a later version (this one
    /// resumed from an older checkpoint), and they take this incarnation's whatever its version.
    /// </summary>
    private async Task BeginAsync(GrpoTrainer trainer, bool resumed, CancellationToken cancellationToken)
    {
        control.Begin(trainer.GlobalStep);
        status.Update(s =>
        {
            s.Step = trainer.GlobalStep;
            s.ModelFolder = Path.GetFullPath(trainer.ModelFolder);
            s.LastCheckpoint = resumed ? CheckpointFolders.Latest(trainer.RunDirectory) ?? string.Empty : string.Empty;
        });
        logger.LogInformation("run {Run}: step {Step} of {MaxSteps}{Resume}", options.Value.Run, trainer.GlobalStep, trainer.Recipe.MaxSteps, resumed ? " (resumed)" : string.Empty);
        await PublishAsync(trainer, default, cancellationToken);
    }

    /// <summary>Step N is complete (checkpoint N too when one was due): weights version N out, metrics, status, log.</summary>
    private async Task AfterStepAsync(GrpoTrainer trainer, StepReport step, CancellationToken cancellationToken)
    {
        await PublishAsync(trainer, step.Trace, cancellationToken);
        var metrics = step.Metrics;
        var queued = await RetryAsync(() => jobs.LengthAsync(cancellationToken), "reading the job queue's length", cancellationToken);
        TrainerMetrics.Record(metrics, queued, await RetryAsync(() => jobs.PendingCountAsync(cancellationToken), "reading the pending jobs", cancellationToken));
        status.Update(s =>
        {
            s.Step = step.Step;
            s.LastReward = metrics.Reward;
            s.LastSuccessRate = metrics.SuccessRate;
            if (step.Checkpoint is not null)
            {
                s.LastCheckpoint = step.Checkpoint;
            }
        });
        logger.LogInformation("step {Step}/{MaxSteps}: reward {Reward:F3}, success {Success:P1}, kl {Kl:G3}, staleness {Staleness:F1}, {Seconds:F1} s ({Wait:F1} s waiting for rollouts)",
            step.Step, trainer.Recipe.MaxSteps, metrics.Reward, metrics.SuccessRate, metrics.Kl, metrics.StalenessMean, metrics.StepSeconds, metrics.RolloutWaitSeconds);
    }

    /// <summary>
    /// Version N = the weights after N steps: captured, served, announced, and the step state saved; in the trace of the
    /// step that made it (<paramref name="step"/>). Version 0 (a run that starts from scratch) is the starting model, which
    /// every replica loads itself: announced, not served, so replicas holding a previous trainer's weights reload it.
    /// </summary>
    private async Task PublishAsync(GrpoTrainer trainer, ActivityContext step, CancellationToken cancellationToken)
    {
        using var span = GrpoTelemetry.ActivitySource.StartActivity("weights.sync", ActivityKind.Internal, step);
        var version = trainer.GlobalStep;
        span?.SetTag("grpo.policy_version", version);
        string checksum;
        if (version == 0)
        {
            checksum = await trainer.WithPolicyAsync(policy => WeightChecksum.Of(policy));
        }
        else
        {
            var snapshot = await trainer.WithPolicyAsync(policy => WeightSnapshot.Capture(policy, version));
            weights.Publish(snapshot);
            checksum = WeightChecksum.Of(snapshot);
        }

        status.Update(s => { s.PolicyVersion = version; s.WeightsChecksum = checksum; });
        await announcements.AnnounceAsync(version, cancellationToken);
        await SaveStateAsync(version, Coordination.TrainerStatus.Running, cancellationToken, trainer.DatasetCursor);
    }

    private Task SaveStateAsync(long step, Coordination.TrainerStatus state, CancellationToken cancellationToken, long datasetCursor = 0) =>
        RetryAsync(() => stateStore.SaveAsync(new TrainerProgress((int)step, step, datasetCursor, state, DateTimeOffset.UtcNow), cancellationToken),
            "saving the trainer state", cancellationToken);

    /// <summary>A Redis command retried through an outage of up to Trainer:RedisOutageSeconds; beyond it the run fails.</summary>
    private Task<T> RetryAsync<T>(Func<Task<T>> command, string what, CancellationToken cancellationToken) =>
        RedisOutage.RetryAsync(command, coordination, what, logger, cancellationToken);

    private Task RetryAsync(Func<Task> command, string what, CancellationToken cancellationToken) =>
        RedisOutage.RetryAsync(command, coordination, what, logger, cancellationToken);

    /// <summary>The loop is over: control requests are refused from now on (before the status says so), then the status.</summary>
    private void End(string outcome, string reason, string? error = null)
    {
        var dropped = control.Close(reason);
        if (dropped != ControlRequests.None)
        {
            logger.LogWarning("requests not carried out, {Reason}: {Requests}", reason, dropped);
        }

        status.Update(s =>
        {
            s.Status = outcome;
            if (error is not null)
            {
                s.Error = error;
            }
        });
    }

    /// <summary>With <c>Trainer:ExitWhenDone</c>, the process ends with the run (an orchestrator passes the code on).</summary>
    private void ExitWhenDone()
    {
        if (!options.Value.ExitWhenDone)
        {
            return;
        }

        var outcome = status.Snapshot();
        Environment.ExitCode = outcome.Status == "failed" ? _failureExitCode : 0;
        logger.LogInformation("training {Status} at step {Step}: the trainer exits with code {Code} (Trainer:ExitWhenDone)",
            outcome.Status, outcome.Step, Environment.ExitCode);
        // A run that fails at once can end before the host has started, and a stop during start fails the start
        // (an unhandled TaskCanceledException, exit 134): stop once started, which is at once if it already has.
        lifetime.ApplicationStarted.Register(lifetime.StopApplication);
    }

    /// <summary>The exit code and one-line message of a failed run: storage, bad input, or anything else.</summary>
    internal static (int Code, string Message) Failure(Exception e, string? runDirectory) => e switch
    {
        IOException io when StorageException.CauseOf(io) is not null =>
            (StorageExitCode, StorageException.Writing(io, runDirectory ?? string.Empty)!.Message),
        CheckpointCorruptException or InvalidDataException or RecipeException or FileNotFoundException or DirectoryNotFoundException => (BadInputExitCode, e.Message),
        _ => (FailedExitCode, e.Message),
    };

    public override void Dispose()
    {
        _stopAfterStep.Dispose();
        base.Dispose();
    }
}
