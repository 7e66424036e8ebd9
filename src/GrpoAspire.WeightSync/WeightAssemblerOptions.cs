namespace GrpoAspire.WeightSync;

/// <summary>
/// Bounds on what a replica accepts from a weights stream, checked against the manifest before any tensor memory is
/// allocated, so a hostile or broken trainer cannot make a replica allocate without limit.
/// </summary>
public sealed record WeightAssemblerOptions
{
    /// <summary>64 GiB: Qwen2.5-32B in bfloat16 with room to spare.</summary>
    public const long DefaultMaxTotalBytes = 64L << 30;

    /// <summary>Qwen2.5-72B has 963 tensors; 65,536 leaves room for any Qwen2-family model.</summary>
    public const int DefaultMaxTensorCount = 1 << 16;

    /// <summary>Largest chunk accepted; the protocol's 1 MiB.</summary>
    public int MaxChunkBytes { get; init; } = WeightChunker.MaxChunkBytes;

    /// <summary>Largest sum of the manifest's tensor lengths.</summary>
    public long MaxTotalBytes { get; init; } = DefaultMaxTotalBytes;

    /// <summary>Most tensors in a manifest.</summary>
    public int MaxTensorCount { get; init; } = DefaultMaxTensorCount;

    /// <summary>Where tensor buffers come from: the previous version's, when the caller returns them after applying; null: new ones.</summary>
    public WeightBufferPool? Buffers { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxChunkBytes, 1, nameof(MaxChunkBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTotalBytes, 1, nameof(MaxTotalBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTensorCount, 1, nameof(MaxTensorCount));
    }
}
