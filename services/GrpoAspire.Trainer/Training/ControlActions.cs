using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Trainer.Training;

/// <summary>
/// Carries out the control requests taken after a step (<see cref="TrainerControl"/>), on the loop's thread, where
/// the trainer is between steps: a checkpoint, a held-out evaluation, and the end of the loop.
/// </summary>
internal sealed class ControlActions(TrainingStatus status, ILogger logger)
{
    /// <summary>Carries out <paramref name="requests"/> after <paramref name="done"/>; returns whether the loop is to stop.</summary>
    public async Task<bool> ApplyAsync(ControlRequests requests, GrpoTrainer trainer, StepReport done)
    {
        var step = done.Step;
        if (requests == ControlRequests.None)
        {
            return false;
        }

        if (requests.HasFlag(ControlRequests.Checkpoint))
        {
            await CheckpointAsync(trainer, done);
        }

        if (requests.HasFlag(ControlRequests.Evaluation))
        {
            await EvaluateAsync(trainer, done);
        }

        var stop = requests.HasFlag(ControlRequests.Stop);
        if (stop)
        {
            logger.LogInformation("stop requested: training ends after step {Step}", step);
        }

        if (stop)
        {
            // The picture holds the last step of a stopped run.
            trainer.PlotCurves();
        }

        return stop;
    }

    private async Task CheckpointAsync(GrpoTrainer trainer, StepReport done)
    {
        if (done.Checkpoint is not null)
        {
            logger.LogInformation("checkpoint requested after step {Step}: saved by the recipe's schedule already", done.Step);
            return;
        }

        var folder = await trainer.SaveCheckpointAsync();
        status.Update(s => s.LastCheckpoint = folder);
        logger.LogInformation("checkpoint requested after step {Step}: saved {Folder}", done.Step, folder);
    }

    private async Task EvaluateAsync(GrpoTrainer trainer, StepReport done)
    {
        if (done.Evaluation is not null)
        {
            logger.LogInformation("evaluation requested after step {Step}: the recipe's schedule evaluated this step", done.Step);
            return;
        }

        logger.LogInformation("evaluation requested after step {Step}", done.Step);
        await trainer.EvaluateAsync();
    }
}
