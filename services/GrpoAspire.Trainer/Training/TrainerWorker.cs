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
/// Redis) and the step state saved in Redis. A restarted trainer resumes from the run folder's newest checkpoint.
/// </summary>
internal sealed class TrainerWorker(
    RolloutJobQueue jobs,
    IConnectionMultiplexer redis,
    RunKeys keys,
    CoordinationOptions coordination,
    ILoggerFactory loggers,
    IConfiguration configuration,
    WeightAnnouncer announcer,
    TrainerStateStore stateStore,
    WeightStore weights,
    TrainingStatus status,
    IOptions<TrainerOptions> options,
    ILogger<TrainerWorker> logger) : BackgroundService
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Asks the loop to stop after the step in progress.</summary>
    public void RequestStop() => _stop.Cancel();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task Run(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stop.Token);
        try
        {
            var loaded = RecipeLoader.LoadFile(settings.Recipe);
            foreach (var notice in loaded.Notices)
            {
                logger.LogInformation("{Notice}", notice);
            }

            var runOptions = new TrainingRunOptions { Output = settings.Output, Dataset = settings.Dataset, Model = settings.Model, Device = settings.Device, MaxSteps = settings.MaxSteps };
            var recipe = TrainingRun.Apply(loaded.Recipe, runOptions);
            var resume = CheckpointFolders.Latest(recipe.OutputDir) is null ? null : "latest";
            status.Update(s => { s.Run = settings.Run; s.MaxSteps = recipe.MaxSteps; s.Status = "training"; });
            await jobs.EnsureGroupAsync(linked.Token);
            // Rollouts appended from now on: groups a previous trainer process asked for are not this one's.
            var collector = await RolloutCollector.StartAtEndAsync(redis, keys, coordination, loggers.CreateLogger<RolloutCollector>(), cancellationToken: linked.Token);

            GrpoTrainer? trainer = null;
            var hooks = new TrainingHooks(
                Rollouts: _ => new RemoteRolloutSource(jobs, collector, recipe, () => trainer?.GlobalStep ?? 0, settings.Staleness,
                    TimeSpan.FromSeconds(settings.RolloutTimeoutSeconds), linked.Token),
                OnStart: t =>
                {
                    trainer = t;
                    status.Update(s =>
                    {
                        s.ModelFolder = Path.GetFullPath(t.ModelFolder);
                        s.LastCheckpoint = resume is null ? string.Empty : CheckpointFolders.Latest(recipe.OutputDir) ?? string.Empty;
                    });
                    logger.LogInformation("run {Run}: step {Step} of {MaxSteps}{Resume}", settings.Run, t.GlobalStep, recipe.MaxSteps, resume is null ? string.Empty : " (resumed)");
                    if (t.GlobalStep > 0)
                    {
                        // Resumed: replicas may still serve the starting model; they need checkpoint N's weights.
                        Publish(t, linked.Token);
                    }
                });
            var result = await TrainingRun.RunAsync(recipe, runOptions with { Resume = resume }, message => logger.LogInformation("{Message}", message), metrics =>
            {
                Publish(trainer!, linked.Token);
                TrainerMetrics.Record(metrics, jobs.LengthAsync(linked.Token).GetAwaiter().GetResult(), jobs.PendingCountAsync(linked.Token).GetAwaiter().GetResult());
                status.Update(s =>
                {
                    s.Step = metrics.Step;
                    s.LastReward = metrics.Reward;
                    s.LastSuccessRate = metrics.SuccessRate;
                    if (recipe.IsCheckpointStep(metrics.Step))
                    {
                        s.LastCheckpoint = CheckpointFolders.For(recipe.OutputDir, metrics.Step);
                    }
                });
                logger.LogInformation("step {Step}/{MaxSteps}: reward {Reward:F3}, success {Success:P1}, kl {Kl:G3}, {Seconds:F1} s",
                    metrics.Step, recipe.MaxSteps, metrics.Reward, metrics.SuccessRate, metrics.Kl, metrics.StepSeconds);
            }, linked.Token, hooks);
            status.Update(s => s.Status = "finished");
            await SaveStateAsync(result.LastStep, Coordination.TrainerStatus.Completed, CancellationToken.None);
            logger.LogInformation("run {Run} finished at step {Step}", settings.Run, result.LastStep);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            status.Update(s => s.Status = "stopped");
            logger.LogInformation("training stopped at step {Step}", status.Snapshot().Step);
        }
        catch (Exception e)
        {
            status.Update(s => { s.Status = "failed"; s.Error = e.Message; });
            logger.LogError(e, "training failed: {Message}", e.Message);
        }
    }

    /// <summary>
    /// Version N = the weights after N steps (the starting model is version 0, which every replica loads itself):
    /// captured, served, announced, and the step state saved.
    /// </summary>
    private void Publish(GrpoTrainer trainer, CancellationToken cancellationToken)
    {
        using var span = GrpoTelemetry.ActivitySource.StartActivity("weights.sync");
        var version = trainer.GlobalStep;
        span?.SetTag("grpo.policy_version", version);
        var snapshot = WeightSnapshot.Capture(trainer.Policy, version);
        weights.Publish(snapshot);
        var checksum = WeightChecksum.Of(snapshot);
        status.Update(s => { s.PolicyVersion = version; s.WeightsChecksum = checksum; });
        announcer.PublishAsync(version, configuration["Kestrel:Endpoints:Grpc:Url"] ?? string.Empty, cancellationToken).GetAwaiter().GetResult();
        SaveStateAsync(version, Coordination.TrainerStatus.Running, cancellationToken, trainer.DatasetCursor).GetAwaiter().GetResult();
    }

    private Task SaveStateAsync(long step, Coordination.TrainerStatus state, CancellationToken cancellationToken, long datasetCursor = 0) =>
        stateStore.SaveAsync(new TrainerProgress((int)step, step, datasetCursor, state, DateTimeOffset.UtcNow), cancellationToken);

    public override void Dispose()
    {
        _stop.Dispose();
        base.Dispose();
    }
}
