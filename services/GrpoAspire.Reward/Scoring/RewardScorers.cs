using System.Globalization;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Reward.Scoring;

/// <summary>
/// Builds <see cref="CountdownScorer"/>s from wire names and weights, for requests and configuration alike.
/// Every problem is an <see cref="ArgumentException"/> whose message starts with the entry at fault.
/// </summary>
public static class RewardScorers
{
    /// <summary>Parses <c>name:weight</c> pairs separated by commas, e.g. <c>format:1,equation:1</c>.</summary>
    public static CountdownScorer Parse(string spec, string source)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var entries = new List<(string Name, double Weight)>();
        foreach (var (index, entry) in spec.Split(',').Index())
        {
            var fields = entry.Split(':');
            if (fields.Length != 2
                || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight))
            {
                throw new ArgumentException(
                    $"{source}[{index}]: '{entry}' is not name:weight (e.g. \"format:1,equation:1\")");
            }

            entries.Add((fields[0].Trim(), weight));
        }

        return Create(entries, source);
    }

    /// <summary>A scorer for these functions, in this order.</summary>
    public static CountdownScorer Create(IReadOnlyList<(string Name, double Weight)> entries, string source)
    {
        var weights = new RewardWeight[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            try
            {
                weights[i] = new RewardWeight(RewardFunctionNames.Parse(entries[i].Name), entries[i].Weight);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{source}[{i}]: {e.Reason()}", e);
            }
        }

        try
        {
            return new CountdownScorer(weights);
        }
        catch (ArgumentException e)
        {
            // Non-finite weights and duplicates: the scorer's own rules, so they are stated once.
            throw new ArgumentException($"{source}: {e.Reason()}", e);
        }
    }

    /// <summary>The message without the " (Parameter 'x')" that .NET appends to it.</summary>
    public static string Reason(this ArgumentException exception)
    {
        if (exception.ParamName is null)
        {
            return exception.Message;
        }

        var suffix = new ArgumentException(string.Empty, exception.ParamName).Message;
        return exception.Message.EndsWith(suffix, StringComparison.Ordinal)
            ? exception.Message[..^suffix.Length]
            : exception.Message;
    }
}
