using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// Rotary position embeddings (Su et al. 2021) in Hugging Face's layout: frequencies duplicated over the two
/// halves of each head and <c>rotate_half</c>. Kept outside the module tree (HF does not save inv_freq).
/// </summary>
public sealed class RotaryEmbedding(double theta, int headDim) : IDisposable
{
    private readonly Dictionary<string, Tensor> _inverseFrequencies = [];

    /// <summary>
    /// cos and a signed sin for the positions, each [B, 1, T, D] in <paramref name="dtype"/>, ready for
    /// <see cref="Apply"/>: the sin's first half is negated, so rotate_half becomes a roll (4 ops a call instead of 9;
    /// the decode loop is bound by host time per op).
    /// </summary>
    public (Tensor Cos, Tensor SignedSin) Compute(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var inverse = InverseFrequencies(positionIds.device);
        // Float32 as transformers does, whatever the model's dtype.
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inverse; // [B, T, D/2]
        var sin = freqs.sin();
        var cos = freqs.cos();
        var signedSin = cat([-sin, sin], dim: -1).unsqueeze(1); // [B, 1, T, D]
        return (cat([cos, cos], dim: -1).unsqueeze(1).to(dtype).MoveToOuterDisposeScope(), signedSin.to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// x * cos + rotate_half(x) * sin for x [B, H, T, D], with rotate_half(x) = cat(-x2, x1) = roll(x, D/2) * [-1, +1],
    /// the sign folded into <paramref name="signedSin"/>; both [B, 1, T, D] from <see cref="Compute"/>.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin)
    {
        using var scope = NewDisposeScope();
        var rolled = x.roll(x.shape[^1] / 2, -1);
        return x.mul(cos).add_(rolled.mul_(signedSin)).MoveToOuterDisposeScope();
    }

    private Tensor InverseFrequencies(Device device)
    {
        var key = device.ToString();
        if (!_inverseFrequencies.TryGetValue(key, out var inverse))
        {
            using var exponents = arange(0, headDim, 2, dtype: ScalarType.Int64).to(ScalarType.Float32) / headDim;
            inverse = (1.0 / pow(theta, exponents)).to(ScalarType.Float32).to(device).DetachFromDisposeScope();
            _inverseFrequencies[key] = inverse;
        }

        return inverse;
    }

    public void Dispose()
    {
        foreach (var tensor in _inverseFrequencies.Values)
        {
            tensor.Dispose();
        }

        _inverseFrequencies.Clear();
    }
}
