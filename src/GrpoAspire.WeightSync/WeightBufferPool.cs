namespace GrpoAspire.WeightSync;

/// <summary>
/// The tensor buffers of the last weights version a replica applied, for its next pull to fill (set
/// <see cref="WeightAssemblerOptions.Buffers"/>): every version lands in the same managed memory instead of fresh
/// memory, whose first touch costs the kernel a zeroed page per 4 KiB (about 1 s per GB on the 2-core VM). Holds one
/// version's buffers at most. Thread-safe.
/// </summary>
public sealed class WeightBufferPool
{
    private readonly Lock _gate = new();
    private Dictionary<long, Stack<TensorBytes>> _free = [];

    /// <summary>Bytes waiting for the next pull.</summary>
    public long PooledBytes
    {
        get
        {
            lock (_gate)
            {
                return _free.Sum(pair => pair.Key * pair.Value.Count);
            }
        }
    }

    /// <summary>
    /// Takes the buffers of <paramref name="weights"/> for the next pull, in place of what the pool held. The weights
    /// must not be used afterwards: their <see cref="VerifiedWeights.Tensors"/> throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The weights were returned already.</exception>
    public void Return(VerifiedWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var free = new Dictionary<long, Stack<TensorBytes>>();
        foreach (var buffer in weights.Release().Where(b => b.Length > 0))
        {
            if (!free.TryGetValue(buffer.Length, out var stack))
            {
                free[buffer.Length] = stack = new Stack<TensorBytes>();
            }

            stack.Push(buffer);
        }

        lock (_gate)
        {
            _free = free;
        }
    }

    /// <summary>A pooled buffer of exactly <paramref name="length"/> bytes, else a new one. Its bytes are whatever they were.</summary>
    internal TensorBytes Rent(long length)
    {
        lock (_gate)
        {
            if (_free.TryGetValue(length, out var stack) && stack.TryPop(out var buffer))
            {
                return buffer;
            }
        }

        return new TensorBytes(length);
    }
}
