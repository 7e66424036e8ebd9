using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Trainer.Training;

/// <summary>What the trainer is doing, for its status RPC; updated by the training loop.</summary>
internal sealed class TrainingStatus
{
    private readonly object _gate = new();
    private GetTrainerStatusResponse _current = new() { Status = "starting" };

    public GetTrainerStatusResponse Snapshot()
    {
        lock (_gate)
        {
            return _current.Clone();
        }
    }

    public void Update(Action<GetTrainerStatusResponse> change)
    {
        lock (_gate)
        {
            var next = _current.Clone();
            change(next);
            _current = next;
        }
    }
}
