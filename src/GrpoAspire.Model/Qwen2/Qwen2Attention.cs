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

    /// <param name="hidden">[B, T, hidden]</param>
    /// <param name="mask">additive [B, 1, T, S], or null for plain causal attention without a cache</param>
    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, Tensor? mask, IKvCache? cache)
    {
        using var scope = NewDisposeScope();
        var profile = Sampling.PhaseTimer.Enabled && cache is not null && hidden.shape[1] == 1 ? new Sampling.PhaseTimer("attn", hidden.device) : null;
        var (batch, length) = (hidden.shape[0], hidden.shape[1]);
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
        if (length == 1 && cache is KvCache { WriteIndex: not null } fixedShape)
        {
            // Fixed-shape decode step (CUDA-graph safe): write at the device-side index, attend over the whole buffer
            // under the caller's mask. The query heads sharing a key/value head go in as that head's query rows, so one
            // scaled_dot_product_attention does grouped-query attention without repeating the cache.
            var (keys, values) = fixedShape.WriteAtIndex(_layerIndex, k, v); // [B, KVH, capacity, D]
            var grouped = q.reshape(batch, _kvHeads, _heads / _kvHeads, _headDim); // [B, KVH, G, D]
            var perGroup = nn.functional.scaled_dot_product_attention(grouped, keys, values, mask, 0.0, false); // [B, KVH, G, D]
            return o_proj.forward(perGroup.reshape(batch, 1, _heads * _headDim)).MoveToOuterDisposeScope(); // head h = kv * G + g
        }

        if (cache is not null && length == 1 && DecodeAttention.Mode != DecodeAttentionMode.Sdpa)
        {
            // Decode step: fixed-cost attention against the cache (see DecodeAttentionMode).
            Tensor decoded;
            if (DecodeAttention.Mode == DecodeAttentionMode.Grouped)
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
