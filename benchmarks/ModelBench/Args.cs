namespace ModelBench;

/// <summary>--name value pairs and --flags.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string> _values = [];

    public static Args Parse(string[] args)
    {
        var parsed = new Args();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }

            var name = args[i][2..];
            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            parsed._values[name] = hasValue ? args[++i] : "true";
        }

        return parsed;
    }

    public string Get(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>--name's value, which must be a positive integer; <paramref name="fallback"/> when it is not given.</summary>
    public int PositiveInt(string name, int fallback) =>
        !Has(name) ? fallback
        : int.TryParse(Get(name, string.Empty), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"--{name} needs a positive integer, got '{Get(name, string.Empty)}'");
}
