using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Trainer.Training;

namespace GrpoAspire.Trainer.Services;

/// <summary>Status (open) and stop (bearer token, like the weight RPCs) of the training loop.</summary>
internal sealed class TrainerGrpcService(TrainingStatus status, TrainerWorker worker) : TrainerService.TrainerServiceBase
{
    public override Task<GetTrainerStatusResponse> GetTrainerStatus(GetTrainerStatusRequest request, ServerCallContext context) =>
        Task.FromResult(status.Snapshot());

    public override Task<StopTrainingResponse> StopTraining(StopTrainingRequest request, ServerCallContext context)
    {
        worker.RequestStop();
        return Task.FromResult(new StopTrainingResponse { Step = status.Snapshot().Step });
    }
}
