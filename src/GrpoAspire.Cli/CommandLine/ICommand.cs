namespace GrpoAspire.Cli.CommandLine;

/// <summary>What the general help lists: a command or a group of sub-commands.</summary>
public interface IVerb
{
    /// <summary>The verb as typed on the command line.</summary>
    string Name { get; }

    /// <summary>One line for the list of commands.</summary>
    string Summary { get; }
}

/// <summary>One verb of the <c>grpo</c> command (<c>grpo score ...</c>), or one sub-verb of a <see cref="CommandGroup"/>.</summary>
public interface ICommand : IVerb
{
    /// <summary>The options the verb accepts (<c>--help</c> is implied).</summary>
    IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>Help text after the option list: formats, exit codes, examples.</summary>
    string Details { get; }

    /// <summary>Runs the verb; throws <see cref="UsageException"/> for bad arguments.</summary>
    Task<int> RunAsync(ParsedArguments arguments, CliConsole console, CancellationToken cancellationToken);
}
