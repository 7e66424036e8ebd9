using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Cli.Commands;

namespace GrpoAspire.Cli;

/// <summary>
/// The <c>grpo</c> entry point: picks the verb from the first argument and runs it. Usage errors go to
/// stderr with the relevant usage and exit code 2; help goes to stdout with exit code 0.
/// </summary>
public static class CliApp
{
    /// <summary>Every verb, in the order the general help lists them.</summary>
    public static IReadOnlyList<ICommand> Commands { get; } = [new ScoreCommand(), new SftCommand(), new TrainCommand(), new EvalCommand(), new CheckParityCommand()];

    public static async Task<int> RunAsync(
        IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        if (args.Count == 0)
        {
            console.Error.WriteLine($"{HelpWriter.Program}: no command given");
            console.Error.WriteLine();
            HelpWriter.WriteGeneral(console.Error, Commands);
            return ExitCodes.Usage;
        }

        var verb = args[0];
        if (verb is "-h" or "--help" or "help" && args.Count == 1)
        {
            HelpWriter.WriteGeneral(console.Out, Commands);
            return ExitCodes.Success;
        }

        var rest = args.Skip(1).ToArray();
        if (verb == "help")
        {
            // "grpo help score" reads as "grpo score --help".
            (verb, rest) = (args[1], ["--help"]);
        }

        var command = Commands.FirstOrDefault(c => c.Name == verb);
        if (command is null)
        {
            console.Error.WriteLine($"{HelpWriter.Program}: unknown command '{verb}'");
            console.Error.WriteLine();
            HelpWriter.WriteGeneral(console.Error, Commands);
            return ExitCodes.Usage;
        }

        if (ArgumentParser.WantsHelp(rest))
        {
            HelpWriter.WriteCommand(console.Out, command);
            return ExitCodes.Success;
        }

        try
        {
            var arguments = ArgumentParser.Parse(rest, command.Options);
            return await command.RunAsync(arguments, console, cancellationToken);
        }
        catch (UsageException e)
        {
            console.Error.WriteLine($"{HelpWriter.Program} {command.Name}: {e.Message}");
            console.Error.WriteLine();
            HelpWriter.WriteCommand(console.Error, command);
            return ExitCodes.Usage;
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            // A libtorch error (device, memory, shapes): its first line says what, the rest is a native stack.
            console.Error.WriteLine($"{HelpWriter.Program} {command.Name}: libtorch failed: {e.Message.Split('\n')[0]}");
            return ExitCodes.PartialFailure;
        }
    }
}
