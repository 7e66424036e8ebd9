using System.Collections.Immutable;

namespace GrpoAspire.WeightSync;

/// <summary>
/// A weights version that arrived whole: every tensor of its manifest, each of the announced length and digest.
/// Only <see cref="WeightAssembler.Complete"/> makes one, so <see cref="WeightApplier.Apply"/> can never be handed
/// a partial or corrupted stream.
/// </summary>
public sealed class VerifiedWeights
{
    internal VerifiedWeights(long version, ImmutableArray<WeightTensor> tensors)
    {
        Version = version;
        Tensors = tensors;
        TotalBytes = tensors.Sum(t => t.ByteLength);
    }

    public long Version { get; }

    /// <summary>In manifest order.</summary>
    public IReadOnlyList<WeightTensor> Tensors { get; }

    public long TotalBytes { get; }
}
