namespace GrpoAspire.Grpo.Math;

/// <summary>How rewards are scaled into advantages (TRL's <c>scale_rewards</c>).</summary>
public enum ScaleRewards
{
    /// <summary>Divide by the group's standard deviation (GRPO as published; TRL's default).</summary>
    Group,

    /// <summary>Divide by the standard deviation of the whole batch (mean still per group).</summary>
    Batch,

    /// <summary>No scaling: advantage = reward - group mean (Dr. GRPO).</summary>
    None,
}

/// <summary>How per-token losses are reduced to one number (TRL's <c>loss_type</c>).</summary>
public enum LossType
{
    /// <summary>Mean over sequences of each sequence's masked token mean (GRPO paper).</summary>
    Grpo,

    /// <summary>Masked token sum / active tokens of the local batch.</summary>
    Bnpo,

    /// <summary>Masked token sum / (batch * max_completion_length) (Dr. GRPO, Liu et al. 2025).</summary>
    DrGrpo,

    /// <summary>Masked token sum / active tokens of the whole accumulated batch (DAPO, Yu et al. 2025).</summary>
    Dapo,
}

public static class GrpoEnumNames
{
    public static ScaleRewards ParseScaleRewards(string value) => value.Trim().ToLowerInvariant() switch
    {
        "group" or "true" => ScaleRewards.Group,
        "batch" => ScaleRewards.Batch,
        "none" or "false" => ScaleRewards.None,
        _ => throw new ArgumentException($"scale_rewards '{value}' is not valid; valid: group, batch, none"),
    };

    public static LossType ParseLossType(string value) => value.Trim().ToLowerInvariant() switch
    {
        "grpo" => LossType.Grpo,
        "bnpo" => LossType.Bnpo,
        "dr_grpo" => LossType.DrGrpo,
        "dapo" => LossType.Dapo,
        _ => throw new ArgumentException($"loss_type '{value}' is not valid; valid: grpo, bnpo, dr_grpo, dapo"),
    };

    public static string ToWireName(this ScaleRewards value) => value switch
    {
        ScaleRewards.Group => "group",
        ScaleRewards.Batch => "batch",
        ScaleRewards.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "valid: group, batch, none"),
    };

    public static string ToWireName(this LossType value) => value switch
    {
        LossType.Grpo => "grpo",
        LossType.Bnpo => "bnpo",
        LossType.DrGrpo => "dr_grpo",
        LossType.Dapo => "dapo",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "valid: grpo, bnpo, dr_grpo, dapo"),
    };
}
