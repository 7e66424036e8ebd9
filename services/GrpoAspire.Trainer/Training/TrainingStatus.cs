using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Trainer.Training;

/// <summary>What the trainer is doing, for its status RPC and run page; updated by the training loop.</summary>
internal sealed class TrainingStatus
{
    private readonly object _gate = new();
    private GetTrainerStatusResponse _current = new() { Status = "starting" };
    private volatile string? _runDirectory;

    /// <summary>The run folder (the recipe's output_dir, resolved), once the recipe is read; null before.</summary>
    public string? RunDirectory
    {
        get => _runDirectory;
        set => _runDirectory = value;
    }

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
