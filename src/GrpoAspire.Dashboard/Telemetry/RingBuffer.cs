namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>
/// A fixed-capacity FIFO that overwrites its oldest item. Not thread-safe: every owner holds its own lock.
/// The array is allocated once, so memory is bounded from the start whatever arrives.
/// </summary>
internal sealed class RingBuffer<T>
{
    private readonly T[] _items;
    private int _start;

    public RingBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new T[capacity];
    }

    public int Count { get; private set; }

    public int Capacity => _items.Length;

    /// <summary>Appends <paramref name="item"/>; when full, the oldest item leaves and is returned in <paramref name="evicted"/>.</summary>
    public bool Add(T item, out T evicted)
    {
        if (Count < _items.Length)
        {
            _items[(_start + Count) % _items.Length] = item;
            Count++;
            evicted = default!;
            return false;
        }

        evicted = _items[_start];
        _items[_start] = item;
        _start = (_start + 1) % _items.Length;
        return true;
    }

    /// <summary>The newest <paramref name="count"/> items (fewer if fewer are held), oldest first.</summary>
    public List<T> TakeLast(int count)
    {
        var take = Math.Clamp(count, 0, Count);
        var result = new List<T>(take);
        for (var i = Count - take; i < Count; i++)
        {
            result.Add(_items[(_start + i) % _items.Length]);
        }

        return result;
    }

    public void Clear()
    {
        Array.Clear(_items);
        _start = 0;
        Count = 0;
    }
}
