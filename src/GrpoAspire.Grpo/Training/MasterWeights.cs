using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Float32 master copies of a range of a bfloat16 (or float16) policy's flat parameters, for the optimizer (mixed
/// precision, as DeepSpeed's bf16 mode keeps them). Forward and backward run on the low-precision weights; each step the
/// gradients are cast into the masters, the optimizer clips and steps the masters in float32, and the result is rounded
/// back into the policy. Without it, AdamW updates of the seed's size (lr 5e-7: a change of ~1e-6 per step) are below a
/// bf16 weight's resolution (~0.4% of its value) and most of them vanish in the rounding. The range is the whole buffer, or
/// one replica's shard of it (<see cref="PolicyOptimizer"/>); either way each transfer is one copy. The optimizer saves
/// them in each checkpoint (<see cref="FileName"/>), so a resumed run continues from the same float32 values.
/// </summary>
public sealed class MasterWeights : IDisposable
{
    /// <summary>The checkpoint file that holds the masters (float32, one tensor per parameter name of the policy).</summary>
    public const string FileName = "master_weights.safetensors";

    private readonly Tensor _grad;

    /// <param name="policy">The low-precision policy's flat buffers; its parameters stay what the model computes with.</param>
    /// <param name="offset">The first element of the range these masters mirror.</param>
    /// <param name="count">Elements in the range; null: to the end of the buffer.</param>
    public MasterWeights(FlatParameters policy, long offset = 0, long? count = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var length = count ?? policy.Count - offset;
        if (offset < 0 || length <= 0 || offset + length > policy.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) is not a range of a flat buffer of {policy.Count} elements");
        }

        (Policy, Offset, Count) = (policy, offset, length);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var data = policy.Parameter.narrow(0, offset, length).to(ScalarType.Float32, copy: true).DetachFromDisposeScope();
        Parameter = new Parameter(data, requires_grad: true);
        _grad = zeros_like(Parameter).DetachFromDisposeScope();
        Parameter.grad = _grad;
    }

    /// <summary>Whether a policy of <paramref name="dtype"/> trains through masters under <paramref name="enabled"/> (fp32_master_weights).</summary>
    public static bool AppliesTo(ScalarType dtype, bool enabled) => enabled && dtype is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>The policy's flat buffers that the masters mirror.</summary>
    public FlatParameters Policy { get; }

    /// <summary>Where the range starts in <see cref="Policy"/>.</summary>
    public long Offset { get; }

    /// <summary>Elements in the range.</summary>
    public long Count { get; }

    /// <summary>The float32 masters of the range: what the optimizer steps.</summary>
    public Parameter Parameter { get; }

    /// <summary>The masters' gradient (float32): what clipping scales.</summary>
    public Tensor Grad => _grad;

    /// <summary>Casts the range of the policy's flat gradient into the masters' (one copy).</summary>
    public void GatherGradients()
    {
        using var noGrad = no_grad();
        using var source = Policy.Grad.narrow(0, Offset, Count);
        _grad.copy_(source);
    }

    /// <summary>Rounds the stepped masters back into the range of the policy's weights (one copy).</summary>
    public void WriteBack()
    {
        using var noGrad = no_grad();
        using var target = Policy.Parameter.narrow(0, Offset, Count);
        target.copy_(Parameter);
    }

    public void Dispose()
    {
        _grad.Dispose();
        Parameter.Dispose();
    }
}
