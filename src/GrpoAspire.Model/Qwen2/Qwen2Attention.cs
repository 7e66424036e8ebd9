using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>Grouped-query self-attention with q/k/v bias, rotary embeddings and an optional KV cache.</summary>
public sealed class Qwen2Attention : nn.Module
{
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _layerIndex;

    public QLinear q_proj;
    public QLinear k_proj;
    public QLinear v_proj;
    public QLinear o_proj;

    public Qwen2Attention(Qwen2Config config, int layerIndex, Device device, ScalarType dtype)
        : base(nameof(Qwen2Attention))
    {
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _layerIndex = layerIndex;
        q_proj = new QLinear(config.HiddenSize, _heads * _headDim, hasBias: true, device, dtype);
        k_proj = new QLinear(config.HiddenSize, _kvHeads * _headDim, hasBias: true, device, dtype);
        v_proj = new QLinear(config.HiddenSize, _kvHeads * _headDim, hasBias: true, device, dtype);
        o_proj = new QLinear(_heads * _headDim, config.HiddenSize, hasBias: false, device, dtype);
        RegisterComponents();
    }

    /// <summary>
    /// A fixed-shape decode step (CUDA-graph safe; see <see cref="KvCache.WriteIndex"/>), in few kernels: one projection
    /// for queries, keys and values together (the cache's fused copy of the three weights), one rotary embedding over the
    /// query and key heads together, the keys and values written at the device-side index, and one
    /// scaled_dot_product_attention over the whole buffer under the caller's mask, in which the query heads that share a
    /// key/value head are that head's query rows (grouped-query attention without repeating the cache).
    /// </summary>
    private Tensor FixedShapeStep(Tensor hidden, Tensor cos, Tensor sin, Tensor? mask, KvCache cache)
    {
        var batch = hidden.shape[0];
        var (weight, bias) = cache.FusedProjection(_layerIndex, () => (
            cat([q_proj.weight, k_proj.weight, v_proj.weight], 0),
            q_proj.bias is null ? null : cat([q_proj.bias, k_proj.bias!, v_proj.bias!], 0)));
        var qkv = nn.functional.linear(hidden, weight, bias).view(batch, _heads + (2 * _kvHeads), _headDim); // [B, H + 2 KVH, D]
        var rotated = RotaryEmbedding.Apply(
            qkv.narrow(1, 0, _heads + _kvHeads), cos.view(batch, 1, _headDim), sin.view(batch, 1, _headDim)); // [B, H + KVH, D]
        var grouped = rotated.narrow(1, 0, _heads).view(batch, _kvHeads, _heads / _kvHeads, _headDim); // [B, KVH, G, D]
        var (keys, values) = cache.WriteAtIndex(
            _layerIndex, rotated.narrow(1, _heads, _kvHeads).unsqueeze(2), qkv.narrow(1, _heads + _kvHeads, _kvHeads).unsqueeze(2));
        var perGroup = nn.functional.scaled_dot_product_attention(grouped, keys, values, mask, 0.0, false); // [B, KVH, G, D]
        return o_proj.forward(perGroup.reshape(batch, 1, _heads * _headDim)); // head h = kv * G + g
    }

    /// <param name="hidden">[B, T, hidden]</param>
    /// <param name="mask">additive [B, 1, T, S], or null for plain causal attention without a cache</param>
    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, Tensor? mask, IKvCache? cache)
    {
        using var scope = NewDisposeScope();
        var profile = Sampling.PhaseTimer.Enabled && cache is not null && hidden.shape[1] == 1 ? new Sampling.PhaseTimer("attn", hidden.device) : null;
        var (batch, length) = (hidden.shape[0], hidden.shape[1]);
        if (length == 1 && cache is KvCache { WriteIndex: not null } fixedShape)
        {
            return FixedShapeStep(hidden, cos, sin, mask, fixedShape).MoveToOuterDisposeScope();
        }

        // One position (decode): [B, 1, H*D] is already laid out as [B, H, 1, D], so a view is the transpose.
        var q = length == 1 ? q_proj.forward(hidden).view(batch, _heads, 1, _headDim)
            : q_proj.forward(hidden).view(batch, length, _heads, _headDim).transpose(1, 2); // [B, H, T, D]
        var k = length == 1 ? k_proj.forward(hidden).view(batch, _kvHeads, 1, _headDim)
            : k_proj.forward(hidden).view(batch, length, _kvHeads, _headDim).transpose(1, 2); // [B, KVH, T, D]
        var v = length == 1 ? v_proj.forward(hidden).view(batch, _kvHeads, 1, _headDim)
            : v_proj.forward(hidden).view(batch, length, _kvHeads, _headDim).transpose(1, 2); // [B, KVH, T, D]
        profile?.Mark("qkv");
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        profile?.Mark("rope");
        if (cache is not null && length == 1 && cache.Attention != DecodeAttentionMode.Sdpa)
        {
            // Decode step: fixed-cost attention against the cache (see DecodeAttentionMode).
            Tensor decoded;
            if (cache.Attention == DecodeAttentionMode.Grouped)
            {
                (k, v) = cache.Update(_layerIndex, k, v); // [B, KVH, S, D]
                decoded = DecodeAttention.Grouped(q, k, v, mask); // [B, H, 1, D]
            }
            else
            {
                (k, v) = cache.UpdateFull(_layerIndex, k, v); // [B, KVH, capacity, D]
                decoded = nn.functional.scaled_dot_product_attention(
                    q, k.repeat_interleave(_heads / _kvHeads, dim: 1), v.repeat_interleave(_heads / _kvHeads, dim: 1), mask, 0.0, false);
            }

            profile?.Mark("decode-attention");
            var result = o_proj.forward(decoded.reshape(batch, 1, _heads * _headDim)).MoveToOuterDisposeScope(); // [B, H, 1, D] is [B, 1, H*D]
            profile?.Mark("o_proj");
            return result;
        }

        if (cache is not null)
        {
            (k, v) = cache.Update(_layerIndex, k, v); // [B, KVH, S, D]
        }

        profile?.Mark("cache");
        if (_kvHeads != _heads)
        {
            // Query head h reads key/value head h / (H / KVH), as transformers' repeat_kv.
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1); // [B, H, S, D]
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }

        profile?.Mark("repeat_kv");
        var attended = nn.functional.scaled_dot_product_attention(
            q, k, v, mask, 0.0, mask is null && length > 1); // [B, H, T, D]
        var merged = attended.transpose(1, 2).contiguous().view(batch, length, _heads * _headDim); // [B, T, H*D]
        profile?.Mark("sdpa");
        var output = o_proj.forward(merged).MoveToOuterDisposeScope();
        profile?.Mark("o_proj");
        return output;
    }
}
