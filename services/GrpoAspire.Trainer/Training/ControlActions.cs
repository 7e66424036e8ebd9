using GrpoAspire.Grpo.Evaluation;
using GrpoAspire.Grpo.Logging;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Trainer.Training;

/// <summary>
/// Carries out the control requests taken after a step (<see cref="TrainerControl"/>), on the loop's thread, where
/// the trainer is between steps: a checkpoint, a held-out evaluation, and the end of the loop.
/// </summary>
internal sealed class ControlActions(GrpoRecipe recipe, TrainingStatus status, ILogger logger)
{
    private HeldOutEvaluation? _evaluation;

    /// <summary>Carries out <paramref name="requests"/> after step <paramref name="step"/>; returns whether the loop is to stop.</summary>
    public bool Apply(ControlRequests requests, GrpoTrainer trainer, int step)
    {
        if (requests == ControlRequests.None)
        {
            return false;
        }

        if (requests.HasFlag(ControlRequests.Checkpoint))
        {
            Checkpoint(trainer, step);
        }

        if (requests.HasFlag(ControlRequests.Evaluation))
        {
            Evaluate(trainer, step);
        }

        var stop = requests.HasFlag(ControlRequests.Stop);
        if (stop)
        {
            logger.LogInformation("stop requested: training ends after step {Step}", step);
        }

        // The picture follows what was just added (eval.jsonl) and holds the last step of a stopped run.
        CurvePlotter.Plot(Path.Combine(recipe.OutputDir, MetricsJsonlWriter.FileName), Path.Combine(recipe.OutputDir, CurvePlotter.FileName));
        return stop;
    }

    private void Checkpoint(GrpoTrainer trainer, int step)
    {
        if (recipe.IsCheckpointStep(step))
        {
            logger.LogInformation("checkpoint requested after step {Step}: saved by the recipe's schedule already", step);
            return;
        }

        using var span = GrpoTelemetry.ActivitySource.StartActivity("trainer.checkpoint");
        span?.SetTag("grpo.step", step);
        var folder = trainer.SaveCheckpoint();
        status.Update(s => s.LastCheckpoint = folder);
        logger.LogInformation("checkpoint requested after step {Step}: saved {Folder}", step, folder);
    }

    private void Evaluate(GrpoTrainer trainer, int step)
    {
        if (recipe.IsEvalStep(step))
        {
            // TrainingRun evaluates after this callback: one line in eval.jsonl for the step, not two.
            logger.LogInformation("evaluation requested after step {Step}: the recipe's schedule evaluates this step", step);
            return;
        }

        using var span = GrpoTelemetry.ActivitySource.StartActivity("trainer.evaluate");
        span?.SetTag("grpo.step", step);
        logger.LogInformation("evaluation requested after step {Step}: {Tasks} held-out tasks ...", step, recipe.EvalTasks);
        // Built on first use: a run nobody asks to evaluate reads no held-out set.
        _evaluation ??= new HeldOutEvaluation(recipe, QwenTokenizer.FromDirectory(trainer.ModelFolder), recipe.OutputDir);
        var result = _evaluation.Run(trainer.Policy, step);
        logger.LogInformation("eval after step {Step} (requested): {Result}", step, result.Describe());
    }
}
