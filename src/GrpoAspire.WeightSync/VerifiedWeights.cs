using System.Collections.Immutable;

namespace GrpoAspire.WeightSync;

/// <summary>
/// A weights version that arrived whole: every tensor of its manifest, each of the announced length and digest.
/// Only <see cref="WeightAssembler.Complete"/> makes one, so <see cref="WeightApplier.Apply"/> can never be handed
/// a partial or corrupted stream.
/// </summary>
public sealed class VerifiedWeights
{
    private readonly ImmutableArray<WeightTensor> _tensors;
    private int _released;

    internal VerifiedWeights(long version, ImmutableArray<WeightTensor> tensors)
    {
        Version = version;
        _tensors = tensors;
        TotalBytes = tensors.Sum(t => t.ByteLength);
    }

    public long Version { get; }

    /// <summary>In manifest order.</summary>
    /// <exception cref="ObjectDisposedException">The weights went back to a <see cref="WeightBufferPool"/>, whose next pull overwrites them.</exception>
    public IReadOnlyList<WeightTensor> Tensors => Volatile.Read(ref _released) == 0
        ? _tensors
        : throw new ObjectDisposedException(nameof(VerifiedWeights), $"weights version {Version} went back to a buffer pool; pull again to use them");

    public long TotalBytes { get; }

    /// <summary>Hands the tensors' buffers over (once) and makes <see cref="Tensors"/> throw from then on.</summary>
    internal IEnumerable<TensorBytes> Release() => Interlocked.Exchange(ref _released, 1) == 0
        ? _tensors.Select(t => t.Data)
        : throw new InvalidOperationException($"weights version {Version} were returned to a buffer pool already");
}
