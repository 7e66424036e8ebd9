namespace GrpoAspire.Cli.CommandLine;

/// <summary>
/// Parses a verb's arguments: <c>--name value</c>, <c>--name=value</c> and flags. No positional arguments,
/// no abbreviations, no repeats: anything unexpected is a <see cref="UsageException"/> naming the culprit.
/// </summary>
public static class ArgumentParser
{
    /// <summary>True when the arguments ask for help (<c>-h</c> or <c>--help</c> anywhere).</summary>
    public static bool WantsHelp(IEnumerable<string> arguments) =>
        arguments.Any(a => a is "-h" or "--help");

    public static ParsedArguments Parse(IReadOnlyList<string> arguments, IReadOnlyList<OptionSpec> options)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(options);
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (!argument.StartsWith("--", StringComparison.Ordinal) || argument.Length == 2)
            {
                throw new UsageException($"unexpected argument '{argument}' (options start with --)");
            }

            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? argument[2..] : argument[2..equals];
            var option = options.FirstOrDefault(o => o.Name == name)
                ?? throw new UsageException($"unknown option '--{name}'");
            if (values.ContainsKey(name))
            {
                throw new UsageException($"--{name} is given more than once");
            }

            if (!option.TakesValue)
            {
                if (equals >= 0)
                {
                    throw new UsageException($"--{name} is a flag and takes no value");
                }

                values[name] = null;
                continue;
            }

            if (equals >= 0)
            {
                values[name] = argument[(equals + 1)..];
            }
            else if (i + 1 < arguments.Count && !IsOption(arguments[i + 1]))
            {
                values[name] = arguments[++i];
            }
            else
            {
                throw new UsageException($"--{name} needs a value ({option.Syntax})");
            }
        }

        foreach (var option in options.Where(o => o.Required && !values.ContainsKey(o.Name)))
        {
            throw new UsageException($"{option.Syntax} is required");
        }

        return new ParsedArguments(values);
    }

    // "-" alone is a value (standard input), "--x" is the next option.
    private static bool IsOption(string argument) => argument.StartsWith("--", StringComparison.Ordinal);
}
