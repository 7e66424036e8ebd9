using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>
/// One value of a recipe key (from the YAML file or the command line), with typed accessors whose errors name the
/// source and the key: <c>recipe.yaml: num_processes: expected an integer in [1, 64], got 'x'</c>.
/// </summary>
internal sealed record RecipeValue(string Key, YamlNode Node, string Source)
{
    private string Scalar => Node is YamlScalarNode { Value: { } text }
        ? text
        : throw Fail("expected a single value");

    public string String() => Scalar.Trim();

    public int Int(int min, int max = int.MaxValue)
    {
        if (!int.TryParse(Scalar, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw Fail($"expected an integer in {IntRange(min, max)}, got '{Scalar}'");
        }

        return value;
    }

    public double Double(double min, double max, bool minExclusive = false)
    {
        if (!double.TryParse(Scalar, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value)
            || value < min || value > max || (minExclusive && value == min))
        {
            throw Fail($"expected a number in {NumberRange(min, max, minExclusive)}, got '{Scalar}'");
        }

        return value;
    }

    public bool Bool() => Scalar.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        _ => throw Fail($"expected true or false, got '{Scalar}'"),
    };

    public IReadOnlyList<string> StringList() => Node switch
    {
        YamlSequenceNode sequence => sequence.Children.Select(c => (c as YamlScalarNode)?.Value
            ?? throw Fail("expected a list of names")).ToArray(),
        YamlScalarNode { Value: { } text } => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        _ => throw Fail("expected a list"),
    };

    public T Parse<T>(Func<string, T> parse)
    {
        try
        {
            return parse(String());
        }
        catch (ArgumentException e)
        {
            throw Fail(e.Message);
        }
    }

    public RecipeException Fail(string what) => new($"{Source}: {Key}: {what}");

    /// <summary>The range as errors and docs write it: <c>[1, 64]</c>, <c>[0, inf]</c>.</summary>
    public static string IntRange(int min, int max) => $"[{min}, {(max == int.MaxValue ? "inf" : max)}]";

    /// <summary>The range as errors and docs write it: <c>(0, 1]</c> when the lower bound itself is out.</summary>
    public static string NumberRange(double min, double max, bool minExclusive) =>
        $"{(minExclusive ? "(" : "[")}{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]";
}
