using System.Globalization;
using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Cli.Commands;

/// <summary>
/// The <c>--reward</c> syntax: comma-separated <c>name=weight</c> pairs with the functions' wire names
/// (<c>format=1,equation=1</c>); a name without <c>=</c> has weight 1.
/// </summary>
public static class RewardOption
{
    public const string Syntax = "NAME[=WEIGHT],...";

    public static string ValidNames =>
        string.Join(", ", Enum.GetValues<RewardFunction>().Select(f => f.ToWireName()));

    public static IReadOnlyList<RewardWeight> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var weights = new List<RewardWeight>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
            {
                throw new UsageException($"--reward has an empty entry in '{text}'; expected {Syntax}");
            }

            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = (equals < 0 ? part : part[..equals]).Trim();
            var function = ParseName(name);
            var weight = equals < 0 ? 1.0 : ParseWeight(name, part[(equals + 1)..].Trim());
            if (weights.Any(w => w.Function == function))
            {
                throw new UsageException($"--reward names '{name}' more than once");
            }

            weights.Add(new RewardWeight(function, weight));
        }

        return weights;
    }

    private static RewardFunction ParseName(string name)
    {
        try
        {
            return RewardFunctionNames.Parse(name);
        }
        catch (ArgumentException)
        {
            throw new UsageException($"--reward: unknown reward function '{name}'; valid: {ValidNames}");
        }
    }

    private static double ParseWeight(string name, string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight)
            || !double.IsFinite(weight))
        {
            throw new UsageException($"--reward: the weight of '{name}' must be a finite number, got '{text}'");
        }

        return weight;
    }
}
