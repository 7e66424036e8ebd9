using GrpoAspire.Model.Cuda;
using GrpoAspire.Model.Qwen2;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>
/// Decode steps of one batch with fixed shapes (see <see cref="DecodeLoopMode.Fixed"/>), optionally replayed as a CUDA
/// graph. The inputs of a step live in tensors owned here and are updated in place: the token ids [B, 1], their
/// positions [B, 1], the cache's write index [1] and the additive mask [B, 1, 1, capacity] (prompt padding hidden,
/// positions not yet written hidden; each step opens its own position).
/// </summary>
internal sealed class FixedShapeDecoder : IDisposable
{
    private readonly Qwen2ForCausalLM _model;
    private readonly KvCache _cache;
    private readonly Tensor _ids;
    private readonly Tensor _positions;
    private readonly Tensor _writeIndex;
    private readonly Tensor _mask;
    private readonly bool _useGraph;
    private CudaGraph? _graph;

    /// <param name="keyPadding">[B, P] 1 for prompt tokens, 0 for left padding, as the prompt's forward saw it.</param>
    /// <param name="lastPositions">[B, 1] position id of each row's last prompt token.</param>
    public FixedShapeDecoder(Qwen2ForCausalLM model, KvCache cache, Tensor keyPadding, Tensor lastPositions, bool useGraph)
    {
        _model = model;
        _cache = cache;
        _useGraph = useGraph;
        var device = keyPadding.device;
        var (batch, written) = (keyPadding.shape[0], keyPadding.shape[1]);
        if (written != cache.Length)
        {
            throw new ArgumentException($"the padding covers {written} positions, the cache holds {cache.Length}", nameof(keyPadding));
        }

        using var scope = NewDisposeScope();
        var dtype = model.OutputWeight.dtype;
        var visible = cat([keyPadding.to(ScalarType.Bool), zeros([batch, cache.Capacity - written], dtype: ScalarType.Bool, device: device)], 1);
        _mask = zeros([batch, 1, 1, cache.Capacity], dtype: dtype, device: device)
            .masked_fill_(visible.logical_not().view(batch, 1, 1, cache.Capacity), finfo(dtype).min).DetachFromDisposeScope();
        _ids = zeros([batch, 1], dtype: ScalarType.Int64, device: device).DetachFromDisposeScope();
        _positions = lastPositions.to(ScalarType.Int64).clone().DetachFromDisposeScope();
        _writeIndex = full([1], written, dtype: ScalarType.Int64, device: device).DetachFromDisposeScope();
        cache.WriteIndex = _writeIndex;
    }

    /// <summary>Feeds <paramref name="tokens"/> [B] (one per row, finished rows included) and returns the next logits [B, V] (the caller disposes the handle).</summary>
    public Tensor Step(Tensor tokens)
    {
        if (_cache.Length + 1 > _cache.Capacity)
        {
            throw new InvalidOperationException($"KV cache full: its capacity is {_cache.Capacity} positions");
        }

        _ids.copy_(tokens.view(_ids.shape));
        _positions.add_(1);
        _mask.index_fill_(3, _writeIndex, 0.0);
        Tensor logits;
        if (_useGraph)
        {
            _graph ??= CudaGraph.Capture(_ids.device, Forward);
            _graph.Replay();
            logits = _graph.Output.select(1, -1);
        }
        else
        {
            using var scope = NewDisposeScope();
            logits = Forward().select(1, -1).MoveToOuterDisposeScope();
        }

        _writeIndex.add_(1);
        _cache.Advance(1); // host bookkeeping only (capacity checks); the step itself reads the device index
        return logits;
    }

    private Tensor Forward() => _model.ForwardFixedShape(_ids, _positions, _mask, _cache);

    public void Dispose()
    {
        _cache.WriteIndex = null;
        _graph?.Dispose();
        foreach (var tensor in new[] { _ids, _positions, _writeIndex, _mask })
        {
            tensor.Dispose();
        }
    }
}
