using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// Key/value cache for continuous batching: one [rows, KVH, capacity, D] pair per layer, allocated once, where
/// each row (slot) holds one sequence from column 0 at its true positions (no padding inside a slot).
/// <para>
/// Layout. Slots have their own lengths: a decode step writes every active row's new key at that row's own
/// column with one scatter per layer (no shared write column, so the buffer never needs rolling or compacting
/// in time), and attends to columns 0..<see cref="AttendLength"/>-1, the longest active row; an additive mask
/// (<see cref="AttentionMask.Slots"/>) hides the columns beyond each row's own length, including whatever a
/// previous occupant of the slot left there. A slot is refilled by copying a prefilled prompt's keys and values
/// into columns 0..P-1 (<see cref="Load"/>), so a waiting request takes a finished row's place without touching the
/// other rows. The active rows are always the prefix 0..<see cref="ActiveRows"/>-1 (views, no gathers); when no
/// request waits, the caller fills holes by moving the last row into them (<see cref="Move"/>).
/// </para>
/// Memory is fixed by rows x capacity, whatever the number of requests.
/// </summary>
public sealed class SlotKvCache : IKvCache, IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;
    private readonly long _kvHeads;
    private readonly long _headDim;
    private Tensor? _writeIndex;

    public SlotKvCache(Qwen2Config config, int rows, int capacity, Device device, ScalarType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Rows = rows;
        Capacity = capacity;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _keys = new Tensor[config.NumHiddenLayers];
        _values = new Tensor[config.NumHiddenLayers];
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            long[] shape = [rows, _kvHeads, capacity, _headDim];
            _keys[layer] = zeros(shape, dtype: dtype, device: device).DetachFromDisposeScope();
            _values[layer] = zeros(shape, dtype: dtype, device: device).DetachFromDisposeScope();
        }
    }

    public int Rows { get; }

    public int Capacity { get; }

    /// <inheritdoc/>
    public DecodeAttentionMode Attention { get; init; } = DecodeAttentionMode.Grouped;

    /// <summary>Rows 0..ActiveRows-1 take part in the current decode step.</summary>
    public int ActiveRows { get; private set; }

    /// <summary>Columns the current decode step attends to (the longest active row's length after its write).</summary>
    public int AttendLength { get; private set; }

    /// <summary>The shape of one layer's key buffer, [rows, KVH, capacity, D].</summary>
    public long[] Shape => _keys[0].shape;

    /// <summary>
    /// Prepares a one-token decode step for rows 0..n-1: <paramref name="writeColumns"/> [n, 1] (int64, on the cache's
    /// device) is where each row's new key goes, which is also its position id.
    /// </summary>
    public void BeginStep(Tensor writeColumns, int attendLength)
    {
        var rows = (int)writeColumns.shape[0];
        if (rows < 1 || rows > Rows)
        {
            throw new ArgumentException($"a step needs 1..{Rows} rows, got {rows}", nameof(writeColumns));
        }

        if (attendLength < 1 || attendLength > Capacity)
        {
            throw new InvalidOperationException($"KV cache full: a row needs {attendLength} positions, the capacity is {Capacity}");
        }

        _writeIndex?.Dispose();
        // scatter_ wants an index shaped like the source, [n, KVH, 1, D]; built once per step, shared by all layers.
        _writeIndex = writeColumns.view(rows, 1, 1, 1).expand(rows, _kvHeads, 1, _headDim).contiguous().DetachFromDisposeScope();
        ActiveRows = rows;
        AttendLength = attendLength;
    }

    /// <summary>Writes k, v [n, KVH, 1, D] at each row's column; returns views [n, KVH, AttendLength, D].</summary>
    public (Tensor Keys, Tensor Values) Update(int layer, Tensor keys, Tensor values)
    {
        if (_writeIndex is null || keys.shape[0] != ActiveRows || keys.shape[2] != 1)
        {
            throw new InvalidOperationException(
                $"the slot cache takes one position for the {ActiveRows} rows of the step begun with BeginStep, got [{string.Join(", ", keys.shape)}]");
        }

        var rowKeys = _keys[layer].narrow(0, 0, ActiveRows);
        var rowValues = _values[layer].narrow(0, 0, ActiveRows);
        rowKeys.scatter_(2, _writeIndex, keys);
        rowValues.scatter_(2, _writeIndex, values);
        return (rowKeys.narrow(2, 0, AttendLength), rowValues.narrow(2, 0, AttendLength));
    }

    /// <summary>The same as <see cref="Update"/>: the step's shapes are already bounded by <see cref="AttendLength"/>.</summary>
    public (Tensor Keys, Tensor Values) UpdateFull(int layer, Tensor keys, Tensor values) => Update(layer, keys, values);

    /// <summary>Copies row <paramref name="sourceRow"/> of a prefill cache (its written positions) into columns 0..Length-1 of <paramref name="slot"/>.</summary>
    public void Load(int slot, KvCache source, int sourceRow = 0)
    {
        CheckSlot(slot);
        if (source.Length > Capacity)
        {
            throw new ArgumentException($"a prompt of {source.Length} positions does not fit the capacity {Capacity}", nameof(source));
        }

        using var scope = NewDisposeScope();
        for (var layer = 0; layer < _keys.Length; layer++)
        {
            var (keys, values) = source.Written(layer); // [B, KVH, P, D]
            _keys[layer][slot].narrow(1, 0, source.Length).copy_(keys[sourceRow]);
            _values[layer][slot].narrow(1, 0, source.Length).copy_(values[sourceRow]);
        }
    }

    /// <summary>Copies the first <paramref name="length"/> columns of slot <paramref name="from"/> into slot <paramref name="to"/>.</summary>
    public void Move(int from, int to, int length)
    {
        CheckSlot(from);
        CheckSlot(to);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Capacity);
        using var scope = NewDisposeScope();
        for (var layer = 0; layer < _keys.Length; layer++)
        {
            _keys[layer][to].narrow(1, 0, length).copy_(_keys[layer][from].narrow(1, 0, length));
            _values[layer][to].narrow(1, 0, length).copy_(_values[layer][from].narrow(1, 0, length));
        }
    }

    private void CheckSlot(int slot)
    {
        if (slot < 0 || slot >= Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"the cache has slots 0..{Rows - 1}");
        }
    }

    public void Dispose()
    {
        _writeIndex?.Dispose();
        foreach (var tensor in _keys.Concat(_values))
        {
            tensor.Dispose();
        }
    }
}
