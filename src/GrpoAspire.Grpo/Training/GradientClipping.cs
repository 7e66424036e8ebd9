using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Gradient clipping by global L2 norm over a flat gradient (<see cref="FlatParameters.Grad"/>), on the device: TorchSharp's
/// <c>clip_grad_norm_</c> returns a double, which waits for the GPU, and takes a norm per parameter. Same rule as
/// PyTorch: scale by min(1, max / (norm + 1e-6)).
/// </summary>
public static class GradientClipping
{
    /// <summary>Elements squared at once for the norm: bounds its temporary memory (256 MB in float32).</summary>
    private const long Chunk = 1L << 26;

    /// <summary>
    /// Clips <paramref name="grad"/> in place when <paramref name="maxNorm"/> &gt; 0; returns the norm before clipping as a
    /// 0-d float32 tensor on the device.
    /// </summary>
    public static Tensor ClipByGlobalNorm(Tensor grad, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(grad);
        if (grad.dim() != 1)
        {
            throw new ArgumentException($"clipping takes a flat gradient; got one of [{string.Join(", ", grad.shape)}]", nameof(grad));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var norm = Norm(grad);
        if (maxNorm > 0)
        {
            var scale = (maxNorm / (norm + 1e-6)).clamp_max(1.0);
            grad.mul_(grad.dtype == ScalarType.Float32 ? scale : scale.to(grad.dtype));
        }

        return norm.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The L2 norm of a 1-D tensor in float32, as a sum of squares chunk by chunk: libtorch's CPU norm kernels (and BLAS
    /// dot) accumulate a long vector with relative errors of 1e-6 to 1e-5 (on 150k elements: float64 3.782053,
    /// vector_norm 3.782009, clip_grad_norm_ 3.782030), while sum() adds pairwise; chunks bound the squares' memory.
    /// </summary>
    private static Tensor Norm(Tensor grad)
    {
        var squares = zeros([], dtype: ScalarType.Float32, device: grad.device);
        for (long start = 0; start < grad.shape[0]; start += Chunk)
        {
            var part = grad.narrow(0, start, System.Math.Min(Chunk, grad.shape[0] - start));
            squares.add_((part.dtype == ScalarType.Float32 ? part : part.to(ScalarType.Float32)).square().sum());
        }

        return squares.sqrt();
    }
}
