namespace GrpoAspire.Reward.Admission;

/// <summary>
/// Bytes of request messages the service holds at once (buffered, deserialized, being scored): a message is admitted
/// only while the sum stays within the capacity, so memory is bounded whatever the number of callers.
/// </summary>
public sealed class MessageBudget
{
    private long _inUse;

    public MessageBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    public long Capacity { get; }

    public long InUse => Interlocked.Read(ref _inUse);

    /// <summary>Takes <paramref name="bytes"/> from the budget, or nothing and false when they do not fit.</summary>
    public bool TryReserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        while (true)
        {
            var current = Interlocked.Read(ref _inUse);
            if (current + bytes > Capacity)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inUse, current + bytes, current) == current)
            {
                return true;
            }
        }
    }

    public void Release(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (Interlocked.Add(ref _inUse, -bytes) < 0)
        {
            throw new InvalidOperationException($"released {bytes} bytes more than were reserved");
        }
    }
}
