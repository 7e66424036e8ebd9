namespace GrpoAspire.Countdown.Rewards;

/// <summary>Why an answer's equation scored as it did. Only <see cref="Correct"/> scores 1.</summary>
public enum EquationVerdict
{
    Correct,

    /// <summary>No <c>&lt;answer&gt;...&lt;/answer&gt;</c> on one line.</summary>
    NoAnswer,

    /// <summary>The numbers in the answer are not the task's numbers, each used once.</summary>
    NumbersMismatch,

    /// <summary>A character other than digits, <c>+ - * / ( )</c>, '.' and whitespace (the seed's check).</summary>
    InvalidCharacters,

    /// <summary>Deviation from the seed: a decimal literal such as <c>1.5</c> or <c>5.</c>.</summary>
    DecimalLiteral,

    /// <summary>Deviation from the seed: <c>**</c> (power) is not a Countdown operation.</summary>
    PowerOperator,

    /// <summary>Deviation from the seed: <c>//</c> (floor division) is not a Countdown operation.</summary>
    FloorDivision,

    /// <summary>Not a well-formed expression (Python's eval would raise SyntaxError or TypeError).</summary>
    SyntaxError,

    DivisionByZero,

    /// <summary>Well-formed, uses the right numbers, but the value is not within 1e-5 of the target.</summary>
    WrongValue,
}

public static class EquationVerdictNames
{
    /// <summary>The snake_case name used in JSON and gRPC ("numbers_mismatch").</summary>
    public static string ToWireName(this EquationVerdict verdict) => verdict switch
    {
        EquationVerdict.Correct => "correct",
        EquationVerdict.NoAnswer => "no_answer",
        EquationVerdict.NumbersMismatch => "numbers_mismatch",
        EquationVerdict.InvalidCharacters => "invalid_characters",
        EquationVerdict.DecimalLiteral => "decimal_literal",
        EquationVerdict.PowerOperator => "power_operator",
        EquationVerdict.FloorDivision => "floor_division",
        EquationVerdict.SyntaxError => "syntax_error",
        EquationVerdict.DivisionByZero => "division_by_zero",
        EquationVerdict.WrongValue => "wrong_value",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "unknown equation verdict"),
    };

    /// <summary>The verdict of a wire name; the error lists the valid names.</summary>
    public static EquationVerdict ParseWireName(string name) =>
        Enum.GetValues<EquationVerdict>().FirstOrDefault(v => v.ToWireName() == name) is var verdict && verdict.ToWireName() == name
            ? verdict
            : throw new ArgumentException(
                $"unknown equation verdict '{name}'; valid: {string.Join(", ", Enum.GetValues<EquationVerdict>().Select(v => v.ToWireName()))}", nameof(name));
}
