using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// Preallocated key/value cache, one [B, KVH, capacity, D] pair per layer. All rows share one write position
/// (prompts are left-padded), so appending is a narrow + copy with no reallocation.
/// </summary>
public sealed class KvCache : IKvCache, IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;
    private (Tensor Weight, Tensor? Bias)?[]? _fused;

    public KvCache(Qwen2Config config, long batchSize, int capacity, Device device, ScalarType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        BatchSize = batchSize;
        _keys = new Tensor[config.NumHiddenLayers];
        _values = new Tensor[config.NumHiddenLayers];
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            long[] shape = [batchSize, config.NumKeyValueHeads, capacity, config.HeadDim];
            _keys[layer] = zeros(shape, dtype: dtype, device: device).DetachFromDisposeScope();
            _values[layer] = zeros(shape, dtype: dtype, device: device).DetachFromDisposeScope();
        }
    }

    public int Capacity { get; }

    /// <inheritdoc/>
    public DecodeAttentionMode Attention { get; init; } = DecodeAttentionMode.Grouped;

    public long BatchSize { get; private set; }

    /// <summary>Positions already written (the same for every layer once a forward is done).</summary>
    public int Length { get; private set; }

    /// <summary>Writes k, v [B, KVH, T, D] at <see cref="Length"/>; returns views of everything so far.</summary>
    public (Tensor Keys, Tensor Values) Update(int layer, Tensor keys, Tensor values)
    {
        var length = (int)keys.shape[2];
        if (Length + length > Capacity)
        {
            throw new InvalidOperationException(
                $"KV cache full: {Length} + {length} positions exceed its capacity {Capacity}");
        }

        _keys[layer].narrow(2, Length, length).copy_(keys);
        _values[layer].narrow(2, Length, length).copy_(values);
        return (_keys[layer].narrow(2, 0, Length + length), _values[layer].narrow(2, 0, Length + length));
    }

    /// <summary>Writes like <see cref="Update"/> and returns the whole buffers: fixed shapes, masked beyond the written length.</summary>
    public (Tensor Keys, Tensor Values) UpdateFull(int layer, Tensor keys, Tensor values)
    {
        Update(layer, keys, values);
        return (_keys[layer].alias(), _values[layer].alias());
    }

    /// <summary>
    /// Device-side write position for fixed-shape decoding (<see cref="Sampling.FixedShapeDecoder"/>): when set, a one-token
    /// forward writes its keys and values at this index (a [1] int64 tensor on the cache's device) and attends over the
    /// whole buffer under the caller's mask, so no host integer enters the step and a CUDA graph can replay it.
    /// </summary>
    public Tensor? WriteIndex { get; set; }

    /// <summary>Writes one position's keys and values at <see cref="WriteIndex"/>; returns the whole buffers [B, KVH, capacity, D].</summary>
    public (Tensor Keys, Tensor Values) WriteAtIndex(int layer, Tensor keys, Tensor values)
    {
        var index = WriteIndex ?? throw new InvalidOperationException("no write index is set on this cache");
        _keys[layer].index_copy_(2, index, keys);
        _values[layer].index_copy_(2, index, values);
        return (_keys[layer].alias(), _values[layer].alias());
    }

    /// <summary>
    /// Per layer, the query/key/value projection weights (and biases) concatenated, built by <paramref name="build"/> on
    /// first use and kept for this cache's lifetime: one generation call, during which the weights do not change.
    /// </summary>
    public (Tensor Weight, Tensor? Bias) FusedProjection(int layer, Func<(Tensor Weight, Tensor? Bias)> build)
    {
        _fused ??= new (Tensor, Tensor?)?[_keys.Length];
        if (_fused[layer] is not { } fused)
        {
            using var scope = NewDisposeScope();
            var (weight, bias) = build();
            fused = (weight.DetachFromDisposeScope(), bias?.DetachFromDisposeScope());
            _fused[layer] = fused;
        }

        return fused;
    }

    /// <summary>Called once after all layers wrote <paramref name="length"/> new positions.</summary>
    public void Advance(int length) => Length += length;

    /// <summary>The written positions of <paramref name="layer"/>: views [B, KVH, Length, D].</summary>
    public (Tensor Keys, Tensor Values) Written(int layer) =>
        (_keys[layer].narrow(2, 0, Length), _values[layer].narrow(2, 0, Length));

    /// <summary>Keeps only the given batch rows (finished rows stop costing compute).</summary>
    public void KeepRows(Tensor rowIndices)
    {
        for (var layer = 0; layer < _keys.Length; layer++)
        {
            var keys = _keys[layer].index_select(0, rowIndices).DetachFromDisposeScope();
            var values = _values[layer].index_select(0, rowIndices).DetachFromDisposeScope();
            _keys[layer].Dispose();
            _values[layer].Dispose();
            _keys[layer] = keys;
            _values[layer] = values;
        }

        BatchSize = rowIndices.shape[0];
    }

    public void Dispose()
    {
        foreach (var tensor in _keys.Concat(_values))
        {
            tensor.Dispose();
        }

        foreach (var fused in _fused ?? [])
        {
            fused?.Weight.Dispose();
            fused?.Bias?.Dispose();
        }
    }
}
