using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Cli.Commands;

namespace GrpoAspire.Cli;

/// <summary>
/// The <c>grpo</c> entry point: picks the verb from the first argument and runs it. Usage errors go to
/// stderr with the relevant usage and exit code 2; a command's failure on what it found goes to stderr as one line with
/// its exit code (<see cref="CommandFailedException"/>); help goes to stdout with exit code 0.
/// </summary>
public static class CliApp
{
    /// <summary>Every verb, in the order the general help lists them.</summary>
    public static IReadOnlyList<IVerb> Commands { get; } =
    [
        new ScoreCommand(), new SftCommand(), new TrainCommand(), new EvalCommand(), new CheckParityCommand(),
        new CommandGroup("tokenizer", "Tokenizers for Countdown models (train: learn a byte-level BPE on Countdown text).", [new TokenizerTrainCommand()]),
    ];

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

        // "grpo help score" reads as "grpo score --help", "grpo help tokenizer train" as "grpo tokenizer train --help".
        IReadOnlyList<string> words = verb == "help" ? [.. args.Skip(1), "--help"] : args;
        var rest = words.Skip(1).ToArray();
        var found = Commands.FirstOrDefault(c => c.Name == words[0]);
        if (found is null)
        {
            console.Error.WriteLine($"{HelpWriter.Program}: unknown command '{words[0]}'");
            console.Error.WriteLine();
            HelpWriter.WriteGeneral(console.Error, Commands);
            return ExitCodes.Usage;
        }

        if (found is CommandGroup group)
        {
            var (sub, exitCode) = PickSubCommand(group, rest, console);
            if (sub is null)
            {
                return exitCode;
            }

            (found, rest) = (sub, rest[1..]);
        }

        var command = found as ICommand
            ?? throw new InvalidOperationException($"verb '{found.Name}' is neither a command nor a command group");
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
        catch (CommandFailedException e)
        {
            console.Error.WriteLine($"{HelpWriter.Program} {command.Name}: {e.Message}");
            return e.ExitCode;
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            // A libtorch error (device, memory, shapes): its first line says what, the rest is a native stack.
            console.Error.WriteLine($"{HelpWriter.Program} {command.Name}: libtorch failed: {e.Message.Split('\n')[0]}");
            return ExitCodes.PartialFailure;
        }
    }

    /// <summary>
    /// The sub-command <paramref name="rest"/> starts with; otherwise no command and the exit code, after the group's
    /// help on stdout (for --help) or an error and the help on stderr.
    /// </summary>
    private static (ICommand? Command, int ExitCode) PickSubCommand(CommandGroup group, string[] rest, CliConsole console)
    {
        if (rest.Length > 0 && rest[0] is "-h" or "--help")
        {
            HelpWriter.WriteGroup(console.Out, group);
            return (null, ExitCodes.Success);
        }

        var sub = rest.Length > 0 ? group.Find(rest[0]) : null;
        if (sub is null)
        {
            console.Error.WriteLine(rest.Length == 0
                ? $"{HelpWriter.Program} {group.Name}: no sub-command given"
                : $"{HelpWriter.Program} {group.Name}: unknown sub-command '{rest[0]}'");
            console.Error.WriteLine();
            HelpWriter.WriteGroup(console.Error, group);
            return (null, ExitCodes.Usage);
        }

        return (sub, ExitCodes.Success);
    }
}
