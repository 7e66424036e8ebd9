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
        .WithCommand(Checkpoint, "Checkpoint now", context => RunAsync(client, context, async (c, o) =>
            Describe(await c.RequestCheckpointAsync(new RequestCheckpointRequest(), o))), Options("Save a checkpoint after the step in progress", "Save"))
        .WithCommand(Evaluate, "Evaluate now", context => RunAsync(client, context, async (c, o) =>
            Describe(await c.RequestEvaluationAsync(new RequestEvaluationRequest(), o))), Options("Evaluate the policy on the held-out tasks after the step in progress", "ClipboardTaskListLtr"))
        .WithCommand(Stop, "Stop after this step", context => RunAsync(client, context, async (c, o) =>
            Describe(await c.StopTrainingAsync(new StopTrainingRequest(), o))), Options("Finish the step in progress (and its checkpoint when due), then stop training", "Stop", "Stop training after the step in progress?"));

    private static CommandOptions Options(string description, string icon, string? confirmation = null) => new()
    {
        Description = description,
        IconName = icon,
        ConfirmationMessage = confirmation,
        // Only a running trainer can act on a request.
        UpdateState = context => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
    };

    private static async Task<ExecuteCommandResult> RunAsync(
        TrainerClient client, ExecuteCommandContext context, Func<TrainerService.TrainerServiceClient, CallOptions, Task<string>> call)
    {
        try
        {
            return CommandResults.Success(await client.ControlAsync(call, context.CancellationToken));
        }
        catch (RpcException e)
        {
            return CommandResults.Failure($"the trainer answered {e.StatusCode}: {e.Status.Detail}");
        }
    }

    private static string Describe(Google.Protobuf.IMessage response) => response.ToString() ?? string.Empty;
}
