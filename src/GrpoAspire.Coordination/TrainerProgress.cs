namespace GrpoAspire.Coordination;

/// <summary>Where the trainer is, as the other services and the dashboard see it.</summary>
/// <param name="Step">Last completed optimizer step (0 before the first).</param>
/// <param name="PolicyVersion">Weights version the trainer holds now.</param>
/// <param name="DatasetCursor">Index of the next prompt to draw from the dataset.</param>
/// <param name="Status">What the trainer is doing.</param>
/// <param name="UpdatedAt">When this was saved.</param>
public sealed record TrainerProgress(
    int Step,
    long PolicyVersion,
    long DatasetCursor,
    TrainerStatus Status,
    DateTimeOffset UpdatedAt);

/// <summary>Life cycle of a trainer, stored lower-case in <c>grpo:{run}:trainer</c>.</summary>
public enum TrainerStatus
{
    Starting,
    Running,
    Completed,
    Failed,
    Stopped,
}
