namespace GrpoAspire.Countdown.Rewards;

/// <summary>The rule-based reward functions of the Countdown recipe.</summary>
public enum RewardFunction
{
    /// <summary>The seed's format reward: 1 when the think/answer layout is exact.</summary>
    Format,

    /// <summary>The seed's equation reward: 1 when the first answer reaches the target with the task's numbers.</summary>
    Equation,

    /// <summary>TinyZero's variant: 1 correct, 0.1 for a well-formed but wrong answer, 0 with no answer.</summary>
    EquationTinyZero,
}

/// <summary>One reward function with its weight in the total.</summary>
public sealed record RewardWeight(RewardFunction Function, double Weight)
{
    /// <summary>The seed's reward set: format and equation, each with weight 1.</summary>
    public static IReadOnlyList<RewardWeight> SeedDefaults { get; } =
        [new(RewardFunction.Format, 1.0), new(RewardFunction.Equation, 1.0)];
}

public static class RewardFunctionNames
{
    public const string Format = "format";
    public const string Equation = "equation";
    public const string EquationTinyZero = "equation_tinyzero";

    public static string ToWireName(this RewardFunction function) => function switch
    {
        RewardFunction.Format => Format,
        RewardFunction.Equation => Equation,
        RewardFunction.EquationTinyZero => EquationTinyZero,
        _ => throw new ArgumentOutOfRangeException(nameof(function), function, "unknown reward function"),
    };

    /// <summary>Parses a wire name; the error lists the valid names.</summary>
    public static RewardFunction Parse(string name) => name switch
    {
        Format => RewardFunction.Format,
        Equation => RewardFunction.Equation,
        EquationTinyZero => RewardFunction.EquationTinyZero,
        _ => throw new ArgumentException(
            $"unknown reward function '{name}'; valid: {Format}, {Equation}, {EquationTinyZero}", nameof(name)),
    };
}
