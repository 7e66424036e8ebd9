using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Math;

/// <summary>Group-relative advantages (Shao et al. 2024, DeepSeekMath), computed as TRL's GRPOTrainer does.</summary>
public static class Advantages
{
    /// <summary>Added to the standard deviation before dividing, as in TRL.</summary>
    public const double StdEpsilon = 1e-4;

    /// <summary>
    /// Advantages [N] for rewards [N] laid out as consecutive groups of <paramref name="numGenerations"/>
    /// completions of the same prompt. Standard deviations are unbiased (Bessel), as torch.std.
    /// </summary>
    public static Tensor Compute(Tensor rewards, int numGenerations, ScaleRewards scaleRewards)
    {
        if (rewards.dim() != 1)
        {
            throw new ArgumentException($"rewards must be 1-D, got shape [{string.Join(", ", rewards.shape)}]", nameof(rewards));
        }

        if (numGenerations < 2 || rewards.shape[0] % numGenerations != 0)
        {
            throw new ArgumentException(
                $"{rewards.shape[0]} rewards do not form groups of num_generations {numGenerations} (need >= 2 per group)");
        }

        using var scope = NewDisposeScope();
        var grouped = rewards.to(ScalarType.Float32).view(-1, numGenerations); // [P, G]
        var meanGrouped = grouped.mean([1L]).repeat_interleave(numGenerations); // [N]
        var advantages = rewards.to(ScalarType.Float32) - meanGrouped;
        var scaled = scaleRewards switch
        {
            ScaleRewards.Group => advantages / (grouped.std(1).repeat_interleave(numGenerations) + StdEpsilon),
            ScaleRewards.Batch => advantages / (rewards.to(ScalarType.Float32).std() + StdEpsilon),
            ScaleRewards.None => advantages,
            _ => throw new ArgumentOutOfRangeException(nameof(scaleRewards), scaleRewards, "valid: group, batch, none"),
        };
        return scaled.MoveToOuterDisposeScope();
    }
}
