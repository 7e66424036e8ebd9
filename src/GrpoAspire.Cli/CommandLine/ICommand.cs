namespace GrpoAspire.Cli.CommandLine;

/// <summary>One verb of the <c>grpo</c> command (<c>grpo score ...</c>).</summary>
public interface ICommand
{
    /// <summary>The verb as typed on the command line.</summary>
    string Name { get; }

    /// <summary>One line for the list of commands.</summary>
    string Summary { get; }

    /// <summary>The options the verb accepts (<c>--help</c> is implied).</summary>
    IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>Help text after the option list: formats, exit codes, examples.</summary>
    string Details { get; }

    /// <summary>Runs the verb; throws <see cref="UsageException"/> for bad arguments.</summary>
    Task<int> RunAsync(ParsedArguments arguments, CliConsole console, CancellationToken cancellationToken);
}
