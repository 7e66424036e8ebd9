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
}
