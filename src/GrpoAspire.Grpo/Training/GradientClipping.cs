using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Gradient clipping by global L2 norm that stays on the device: TorchSharp's <c>clip_grad_norm_</c> returns a
/// double, which waits for the GPU every step. Same rule as PyTorch: scale by min(1, max / (norm + 1e-6)).
/// </summary>
public static class GradientClipping
{
    /// <summary>Clips in place; returns the norm before clipping as a 0-d float32 tensor on the device.</summary>
    public static Tensor ClipByGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToArray();
        if (grads.Length == 0)
        {
            throw new InvalidOperationException("no parameter has a gradient: call backward() first");
        }

        var squares = stack(grads.Select(g => g.to(ScalarType.Float32).square().sum()).ToArray()); // [P]
        var norm = squares.sum().sqrt();
        if (maxNorm > 0)
        {
            var scale = (maxNorm / (norm + 1e-6)).clamp_max(1.0);
            foreach (var grad in grads)
            {
                grad.mul_(scale.to(grad.dtype));
            }
        }

        return norm.MoveToOuterDisposeScope();
    }
}
