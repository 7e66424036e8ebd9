using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// Rotary position embeddings (Su et al. 2021) in Hugging Face's layout: frequencies duplicated over the two
/// halves of each head and <c>rotate_half</c>. Kept outside the module tree (HF does not save inv_freq).
/// </summary>
public sealed class RotaryEmbedding(double theta, int headDim) : IDisposable
{
    private readonly Dictionary<string, Tensor> _inverseFrequencies = [];

    /// <summary>cos and sin for the positions, each [B, T, D], in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var inverse = InverseFrequencies(positionIds.device);
        // Float32 as transformers does, whatever the model's dtype.
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inverse; // [B, T, D/2]
        var emb = cat([freqs, freqs], dim: -1); // [B, T, D]
        return (emb.cos().to(dtype).MoveToOuterDisposeScope(), emb.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>q * cos + rotate_half(q) * sin for q [B, H, T, D] and cos/sin [B, T, D].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var c = cos.unsqueeze(1); // [B, 1, T, D]
        var s = sin.unsqueeze(1);
        var half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], dim: -1);
        return ((x * c) + (rotated * s)).MoveToOuterDisposeScope();
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
