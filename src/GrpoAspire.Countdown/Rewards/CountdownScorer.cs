namespace GrpoAspire.Countdown.Rewards;

/// <summary>One reward function's value for one completion.</summary>
public readonly record struct RewardValue(RewardFunction Function, double Value);

/// <summary>Every function's value, the weighted total, and why the equation scored as it did.</summary>
public sealed record RewardBreakdown(IReadOnlyList<RewardValue> Values, double Total, EquationVerdict EquationVerdict)
{
    public double ValueOf(RewardFunction function)
    {
        foreach (var value in Values)
        {
            if (value.Function == function)
            {
                return value.Value;
            }
        }

        throw new ArgumentException($"reward function {function.ToWireName()} was not computed", nameof(function));
    }
}

/// <summary>
/// Scores Countdown completions (the text after the assistant prefill, which ends with <c>&lt;think&gt;</c>).
/// Thread-safe and allocation-light: the reward service, the CLI and the trainer all score through it.
/// </summary>
public sealed class CountdownScorer
{
    /// <summary>TinyZero's score for a well-formed answer that is wrong.</summary>
    public const double TinyZeroFormatScore = 0.1;

    private readonly RewardWeight[] _weights;

    public CountdownScorer(IReadOnlyList<RewardWeight>? weights = null)
    {
        _weights = (weights ?? RewardWeight.SeedDefaults).ToArray();
        if (_weights.Length == 0)
        {
            throw new ArgumentException("at least one reward function is needed", nameof(weights));
        }

        foreach (var weight in _weights)
        {
            if (!double.IsFinite(weight.Weight))
            {
                throw new ArgumentException(
                    $"the weight of {weight.Function.ToWireName()} must be finite, got {weight.Weight}", nameof(weights));
            }
        }

        if (_weights.DistinctBy(w => w.Function).Count() != _weights.Length)
        {
            throw new ArgumentException("each reward function may appear once", nameof(weights));
        }
    }

    public IReadOnlyList<RewardWeight> Weights => _weights;

    public RewardBreakdown Score(ReadOnlySpan<char> completion, CountdownTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var values = new RewardValue[_weights.Length];
        var total = 0.0;
        var verdict = SeedEquation(completion, task);
        for (var i = 0; i < _weights.Length; i++)
        {
            var function = _weights[i].Function;
            var value = function switch
            {
                RewardFunction.Format => CompletionFormat.IsWellFormed(completion) ? 1.0 : 0.0,
                RewardFunction.Equation => verdict == EquationVerdict.Correct ? 1.0 : 0.0,
                RewardFunction.EquationTinyZero => TinyZeroEquation(completion, task),
                _ => throw new InvalidOperationException($"unknown reward function {function}"),
            };
            values[i] = new RewardValue(function, value);
            total += _weights[i].Weight * value;
        }

        return new RewardBreakdown(values, total, verdict);
    }

    /// <summary>The seed's equation check on the first one-line answer.</summary>
    public static EquationVerdict SeedEquation(ReadOnlySpan<char> completion, CountdownTask task)
    {
        var answer = CompletionFormat.FindFirstAnswer(completion);
        return answer is { } range
            ? EquationEvaluator.Check(completion[range], task)
            : EquationVerdict.NoAnswer;
    }

    /// <summary>TinyZero's countdown score (verl's compute_score with format_score 0.1).</summary>
    public static double TinyZeroEquation(ReadOnlySpan<char> completion, CountdownTask task)
    {
        if (CompletionFormat.FindLastAnswerOnLastLine(completion) is not { } range)
        {
            return 0.0;
        }

        // Any extracted answer earns the format score, even with the wrong numbers (as TinyZero).
        return EquationEvaluator.Check(completion[range], task) == EquationVerdict.Correct
            ? 1.0
            : TinyZeroFormatScore;
    }
}
