using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>Additive attention masks: 0 where a query may attend, the dtype's minimum elsewhere.</summary>
public static class AttentionMask
{
    /// <summary>
    /// [B, 1, T, S] for queries at positions past..past+T-1 over keys 0..S-1 (S = past + T): causal, and
    /// keys where <paramref name="keyPadding"/> [B, S] is 0 are hidden. The minimum (not -inf) keeps rows
    /// of padding queries finite, as transformers does, so no NaN reaches real tokens.
    /// </summary>
    public static Tensor Build(Tensor keyPadding, int past, int length, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var device = keyPadding.device;
        var total = past + length;
        if (keyPadding.shape[1] != total)
        {
            throw new ArgumentException(
                $"the padding mask covers {keyPadding.shape[1]} positions, the attention {total}", nameof(keyPadding));
        }

        var queryPositions = arange(past, total, dtype: ScalarType.Int64, device: device).unsqueeze(1); // [T, 1]
        var keyPositions = arange(0, total, dtype: ScalarType.Int64, device: device).unsqueeze(0); // [1, S]
        var causal = keyPositions.le(queryPositions); // [T, S]
        var allowed = causal.unsqueeze(0).unsqueeze(0).logical_and(keyPadding.to(ScalarType.Bool).unsqueeze(1).unsqueeze(1)); // [B, 1, T, S]
        var minimum = finfo(dtype).min;
        var mask = zeros(allowed.shape, dtype: dtype, device: device).masked_fill_(allowed.logical_not(), minimum);
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// [n, 1, 1, S] for one query per row at <paramref name="positions"/> [n, 1] over keys 0..S-1 of a slot cache
    /// (<see cref="SlotKvCache"/>): row i sees keys 0..positions[i] and nothing beyond (shorter rows, stale columns).
    /// </summary>
    public static Tensor Slots(Tensor positions, int keyLength, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var keys = arange(0, keyLength, dtype: ScalarType.Int64, device: positions.device).unsqueeze(0); // [1, S]
        var hidden = keys.gt(positions); // [n, S]
        var mask = zeros(hidden.shape, dtype: dtype, device: positions.device).masked_fill_(hidden, finfo(dtype).min);
        return mask.view(positions.shape[0], 1, 1, keyLength).MoveToOuterDisposeScope(); // [n, 1, 1, S]
    }

    /// <summary>Position ids from a left-padded mask: cumsum(mask) - 1, clamped at 0 (as transformers).</summary>
    public static Tensor PositionIds(Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var mask = attentionMask.to(ScalarType.Int64);
        return (mask.cumsum(1) - 1).clamp_min(0).MoveToOuterDisposeScope();
    }
}
