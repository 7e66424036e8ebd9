namespace GrpoAspire.WeightSync;

/// <summary>Where <see cref="WeightsGrpcService"/> finds the versions it serves (the trainer's published snapshots).</summary>
public interface IWeightSource
{
    /// <summary>The newest published version, or null before the first publication.</summary>
    WeightSnapshot? Latest { get; }

    /// <summary>That version if it is still held, else null.</summary>
    WeightSnapshot? Get(long version);
}
