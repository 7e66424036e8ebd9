using System.Globalization;

namespace GrpoAspire.Cli.CommandLine;

/// <summary>The options given to one verb, already checked against its <see cref="OptionSpec"/> list.</summary>
public sealed class ParsedArguments
{
    private readonly Dictionary<string, string?> _values;

    internal ParsedArguments(Dictionary<string, string?> values) => _values = values;

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The option's value, or null when it was not given.</summary>
    public string? Value(string name) => _values.GetValueOrDefault(name);

    public string Required(string name) =>
        Value(name) ?? throw new UsageException($"--{name} is required");

    /// <summary>An integer option within [<paramref name="min"/>, <paramref name="max"/>], or the default.</summary>
    public int Int32(string name, int defaultValue, int min, int max)
    {
        if (Value(name) is not { } text)
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            || value < min || value > max)
        {
            throw new UsageException($"--{name} must be an integer from {min} to {max}, got '{text}'");
        }

        return value;
    }
}
