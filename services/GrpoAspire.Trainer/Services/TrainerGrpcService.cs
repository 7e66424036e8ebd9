using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Trainer.Training;

namespace GrpoAspire.Trainer.Services;

/// <summary>
/// Status (open) and control (bearer token, like the weight RPCs) of the training loop: stop, checkpoint and
/// evaluate after the step in progress, through <see cref="TrainerControl"/>.
/// </summary>
internal sealed class TrainerGrpcService(TrainingStatus status, TrainerControl control) : TrainerService.TrainerServiceBase
{
    public override Task<GetTrainerStatusResponse> GetTrainerStatus(GetTrainerStatusRequest request, ServerCallContext context) =>
        Task.FromResult(status.Snapshot());

    public override Task<StopTrainingResponse> StopTraining(StopTrainingRequest request, ServerCallContext context)
    {
        var answer = control.Request(ControlRequests.Stop);
        return Task.FromResult(new StopTrainingResponse
        {
            Step = answer.Step, Accepted = answer.Accepted, AfterStep = answer.AfterStep, Reason = answer.Reason,
        });
    }

    public override Task<RequestCheckpointResponse> RequestCheckpoint(RequestCheckpointRequest request, ServerCallContext context)
    {
        var answer = control.Request(ControlRequests.Checkpoint);
        return Task.FromResult(new RequestCheckpointResponse
        {
            Step = answer.Step, Accepted = answer.Accepted, AfterStep = answer.AfterStep, Reason = answer.Reason,
        });
    }

    public override Task<RequestEvaluationResponse> RequestEvaluation(RequestEvaluationRequest request, ServerCallContext context)
    {
        var answer = control.Request(ControlRequests.Evaluation);
        return Task.FromResult(new RequestEvaluationResponse
        {
            Step = answer.Step, Accepted = answer.Accepted, AfterStep = answer.AfterStep, Reason = answer.Reason,
        });
    }
}
