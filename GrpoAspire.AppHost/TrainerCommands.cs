using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.AppHost;

/// <summary>
/// The trainer's actions as Aspire resource commands (dashboard buttons, <c>ResourceCommandService</c>): checkpoint
/// now, evaluate now, stop after this step. Each calls the trainer's control RPC with the run's token; the trainer
/// acts between steps.
/// </summary>
internal static class TrainerCommands
{
    public const string Checkpoint = "checkpoint-now";
    public const string Evaluate = "evaluate-now";
    public const string Stop = "stop-after-step";

    public static IResourceBuilder<ProjectResource> WithTrainerCommands(this IResourceBuilder<ProjectResource> trainer, TrainerClient client) => trainer
        .WithCommand(Checkpoint, "Checkpoint now", context => RunAsync(client, context, CheckpointAsync),
            Options("Save a checkpoint after the step in progress", "Save"))
        .WithCommand(Evaluate, "Evaluate now", context => RunAsync(client, context, EvaluateAsync),
            Options("Evaluate the policy on the held-out tasks after the step in progress", "ClipboardTaskListLtr"))
        .WithCommand(Stop, "Stop after this step", context => RunAsync(client, context, StopAsync),
            Options("Finish the step in progress (and its checkpoint when due), then stop training", "Stop", "Stop training after the step in progress?"));

    private static async Task<Answer> CheckpointAsync(TrainerService.TrainerServiceClient trainer, CallOptions options)
    {
        var r = await trainer.RequestCheckpointAsync(new RequestCheckpointRequest(), options);
        return new Answer("checkpoint", r.Accepted, r.AfterStep, r.Reason);
    }

    private static async Task<Answer> EvaluateAsync(TrainerService.TrainerServiceClient trainer, CallOptions options)
    {
        var r = await trainer.RequestEvaluationAsync(new RequestEvaluationRequest(), options);
        return new Answer("held-out evaluation", r.Accepted, r.AfterStep, r.Reason);
    }

    private static async Task<Answer> StopAsync(TrainerService.TrainerServiceClient trainer, CallOptions options)
    {
        var r = await trainer.StopTrainingAsync(new StopTrainingRequest(), options);
        return new Answer("stop", r.Accepted, r.AfterStep, r.Reason);
    }

    /// <summary>What the trainer answered a control request.</summary>
    internal sealed record Answer(string Action, bool Accepted, int AfterStep, string Reason)
    {
        public string Describe() => Accepted ? $"{Action} after step {AfterStep}" : $"{Action} refused: {Reason}";
    }

    private static CommandOptions Options(string description, string icon, string? confirmation = null) => new()
    {
        Description = description,
        IconName = icon,
        ConfirmationMessage = confirmation,
        // Only a running trainer can act on a request.
        UpdateState = context => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
    };

    private static async Task<ExecuteCommandResult> RunAsync(
        TrainerClient client, ExecuteCommandContext context, Func<TrainerService.TrainerServiceClient, CallOptions, Task<Answer>> call)
    {
        try
        {
            var answer = await client.ControlAsync(call, context.CancellationToken);
            return answer.Accepted ? CommandResults.Success(answer.Describe()) : CommandResults.Failure(answer.Describe());
        }
        catch (RpcException e)
        {
            return CommandResults.Failure($"the trainer answered {e.StatusCode}: {e.Status.Detail}");
        }
    }
}
