using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// How attention runs for a one-token decode step against the KV cache; the sampler that makes the cache chooses it
/// (<see cref="IKvCache.Attention"/>, from <see cref="Sampling.DecodeOptions"/>).
/// </summary>
public enum DecodeAttentionMode
{
    /// <summary>
    /// Grouped matmuls: query heads viewed as [B, KVH, H/KVH, D] against the cache's own KVH heads (no
    /// repeat_kv copies), softmax in float32. Measured on an H100: scaled_dot_product_attention with a cache
    /// that grows by one position per step cost ~3 ms a call (shapes change every step), this a few ops.
    /// </summary>
    Grouped,

    /// <summary>scaled_dot_product_attention over the grown cache, as for prompts.</summary>
    Sdpa,

    /// <summary>scaled_dot_product_attention over the whole preallocated cache (fixed shapes), masked beyond the written length.</summary>
    SdpaStatic,
}

/// <summary>The grouped decode attention (<see cref="DecodeAttentionMode.Grouped"/>).</summary>
public static class DecodeAttention
{
    /// <summary>
    /// One query position per row: q [B, H, 1, D], k and v [B, KVH, S, D], additive mask [B, 1, 1, S];
    /// returns [B, H, 1, D]. Query head h reads key/value head h / (H / KVH), as transformers' repeat_kv.
    /// </summary>
    public static Tensor Grouped(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var (batch, heads, headDim) = (q.shape[0], q.shape[1], q.shape[3]);
        var kvHeads = k.shape[1];
        var grouped = q.reshape(batch, kvHeads, heads / kvHeads, headDim); // [B, KVH, G, D]
        var scores = grouped.matmul(k.transpose(2, 3)).mul_(1.0 / System.Math.Sqrt(headDim)); // [B, KVH, G, S]
        if (mask is not null)
        {
            scores = scores.add_(mask); // mask [B, 1, 1, S] broadcasts over KVH and G
        }

        var weights = scores.softmax(-1, ScalarType.Float32).to(v.dtype); // [B, KVH, G, S]
        return weights.matmul(v).reshape(batch, heads, 1, headDim).MoveToOuterDisposeScope(); // [B, H, 1, D]
    }
}
