using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>The decoder stack: embeddings, layers, final norm (Hugging Face's <c>model.*</c>).</summary>
public sealed class Qwen2Model : nn.Module
{
    private readonly RotaryEmbedding _rotary;

    public QEmbedding embed_tokens;
    public ModuleList<Qwen2DecoderLayer> layers;
    public Qwen2RMSNorm norm;

    public Qwen2Model(Qwen2Config config, Device device, ScalarType dtype)
        : base(nameof(Qwen2Model))
    {
        Config = config;
        _rotary = new RotaryEmbedding(config.RopeTheta, config.HeadDim);
        embed_tokens = new QEmbedding(config.VocabSize, config.HiddenSize, device, dtype);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new Qwen2DecoderLayer(config, i, device, dtype)).ToArray());
        norm = new Qwen2RMSNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        RegisterComponents();
    }

    public Qwen2Config Config { get; }

    /// <summary>
    /// When true, a forward with gradients on (and no KV cache) keeps no activation inside the decoder layers and
    /// recomputes each layer in the backward (<see cref="DecoderLayerCheckpoint"/>): less memory, about a third more
    /// compute. Inference is unaffected.
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Final hidden states [B, T, hidden] for <paramref name="inputIds"/> [B, T].</summary>
    /// <param name="positionIds">[B, T] positions (cumsum of the mask - 1 for left padding).</param>
    /// <param name="keyPadding">[B, past + T] 1 for real tokens, 0 for padding; null when there is none.</param>
    public Tensor Forward(Tensor inputIds, Tensor positionIds, Tensor? keyPadding = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var profile = Sampling.PhaseTimer.Enabled && cache is not null && inputIds.shape[1] == 1 ? new Sampling.PhaseTimer("model", inputIds.device) : null;
        var length = (int)inputIds.shape[1];
        var past = cache?.Length ?? 0;
        var hidden = embed_tokens.forward(inputIds); // [B, T, hidden]
        profile?.Mark("embed");
        var (cos, sin) = _rotary.Compute(positionIds, hidden.dtype);
        profile?.Mark("rotary");
        Tensor? mask = null;
        if (keyPadding is not null || (past > 0 && length > 1))
        {
            var padding = keyPadding ?? ones([inputIds.shape[0], past + length], dtype: ScalarType.Int64, device: inputIds.device);
            mask = AttentionMask.Build(padding, past, length, hidden.dtype);
            if (cache is not null && length == 1 && cache.Attention == DecodeAttentionMode.SdpaStatic && cache.Capacity > past + length)
            {
                // Positions not yet written are hidden: the attention sees the whole buffer, with one shape for the whole decode.
                mask = nn.functional.pad(mask, [0, cache.Capacity - past - length], value: finfo(hidden.dtype).min);
            }
        }

        profile?.Mark("mask");
        // Checkpointing only pays where a backward follows: a training forward (grad on, no KV cache).
        var checkpoint = GradientCheckpointing && cache is null && is_grad_enabled() && hidden.requires_grad;
        foreach (var layer in layers)
        {
            hidden = checkpoint
                ? DecoderLayerCheckpoint.Run(layer, hidden, cos, sin, mask)
                : layer.Forward(hidden, cos, sin, mask, cache);
        }

        profile?.Mark("layers");
        cache?.Advance(length);
        var result = norm.forward(hidden).MoveToOuterDisposeScope();
        profile?.Mark("norm");
        return result;
    }

    /// <summary>
    /// One fixed-shape decode step (see <see cref="KvCache.WriteIndex"/>): <paramref name="inputIds"/> and
    /// <paramref name="positionIds"/> [B, 1], <paramref name="mask"/> [B, 1, 1, capacity] additive (0 visible, the
    /// dtype's minimum hidden). Builds no mask and leaves the cache's host length alone: the caller owns both, so the
    /// step launches the same kernels on the same memory every time.
    /// </summary>
    public Tensor ForwardFixedShape(Tensor inputIds, Tensor positionIds, Tensor mask, KvCache cache)
    {
        if (cache.WriteIndex is null)
        {
            throw new ArgumentException("a fixed-shape step needs the cache's write index", nameof(cache));
        }

        using var scope = NewDisposeScope();
        var hidden = embed_tokens.forward(inputIds); // [B, 1, hidden]
        var (cos, sin) = _rotary.Compute(positionIds, hidden.dtype);
        foreach (var layer in layers)
        {
            hidden = layer.Forward(hidden, cos, sin, mask, cache);
        }

        return norm.forward(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One decode step of a continuous batch: <paramref name="inputIds"/> [n, 1] at <paramref name="positionIds"/> [n, 1]
    /// for rows 0..n-1 of <paramref name="cache"/>, whose step was begun with the same positions; hidden states [n, 1, hidden].
    /// </summary>
    public Tensor ForwardSlots(Tensor inputIds, Tensor positionIds, SlotKvCache cache)
    {
        using var scope = NewDisposeScope();
        var hidden = embed_tokens.forward(inputIds); // [n, 1, hidden]
        var (cos, sin) = _rotary.Compute(positionIds, hidden.dtype);
        var mask = AttentionMask.Slots(positionIds, cache.AttendLength, hidden.dtype); // [n, 1, 1, S]
        foreach (var layer in layers)
        {
            hidden = layer.Forward(hidden, cos, sin, mask, cache);
        }

        return norm.forward(hidden).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rotary.Dispose();
        }

        base.Dispose(disposing);
    }
}
