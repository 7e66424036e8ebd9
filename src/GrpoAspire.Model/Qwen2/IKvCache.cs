using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>What attention needs from a key/value cache: write this step's keys and values, read what it may attend to.</summary>
public interface IKvCache
{
    /// <summary>How a one-token step attends to this cache: chosen by whoever made it (the sampler's decode options).</summary>
    DecodeAttentionMode Attention { get; }

    /// <summary>Writes k, v [B, KVH, T, D] for <paramref name="layer"/>; returns the keys and values to attend to, [B, KVH, S, D].</summary>
    (Tensor Keys, Tensor Values) Update(int layer, Tensor keys, Tensor values);

    /// <summary>Like <see cref="Update"/>, for attention with fixed shapes (the mask hides what was not written).</summary>
    (Tensor Keys, Tensor Values) UpdateFull(int layer, Tensor keys, Tensor values);
}
