namespace GrpoAspire.Cli.CommandLine;

/// <summary>Writes the general usage and each verb's help from its option list.</summary>
public static class HelpWriter
{
    public const string Program = "grpo";

    public static void WriteGeneral(TextWriter writer, IReadOnlyList<IVerb> commands)
    {
        writer.WriteLine($"{Program}: GRPO reinforcement learning of LLMs on the Countdown game.");
        writer.WriteLine();
        writer.WriteLine($"Usage: {Program} <command> [options]");
        writer.WriteLine();
        writer.WriteLine("Commands:");
        var width = commands.Max(c => c.Name.Length) + 2;
        foreach (var command in commands)
        {
            writer.WriteLine($"  {command.Name.PadRight(width)}{command.Summary}");
        }

        writer.WriteLine();
        writer.WriteLine($"Run '{Program} <command> --help' for a command's options.");
    }

    /// <summary>The usage of a group: its sub-commands, one line each.</summary>
    public static void WriteGroup(TextWriter writer, CommandGroup group)
    {
        writer.WriteLine($"Usage: {Program} {group.Name} <sub-command> [options]");
        writer.WriteLine();
        writer.WriteLine(group.Summary);
        writer.WriteLine();
        writer.WriteLine("Sub-commands:");
        var width = group.SubCommands.Max(c => group.WordOf(c).Length) + 2;
        foreach (var command in group.SubCommands)
        {
            writer.WriteLine($"  {group.WordOf(command).PadRight(width)}{command.Summary}");
        }

        writer.WriteLine();
        writer.WriteLine($"Run '{Program} {group.Name} <sub-command> --help' for a sub-command's options.");
    }

    public static void WriteCommand(TextWriter writer, ICommand command)
    {
        var usage = string.Join(' ', command.Options.Select(o => o.Required ? o.Syntax : $"[{o.Syntax}]"));
        writer.WriteLine($"Usage: {Program} {command.Name} {usage}");
        writer.WriteLine();
        writer.WriteLine(command.Summary);
        writer.WriteLine();
        writer.WriteLine("Options:");
        var rows = command.Options.Select(o => (Syntax: o.Syntax, o.Description))
            .Append((Syntax: "-h, --help", Description: "show this help")).ToArray();
        var width = rows.Max(r => r.Syntax.Length) + 2;
        var indent = new string(' ', width + 2);
        foreach (var (syntax, description) in rows)
        {
            var lines = description.Split('\n');
            writer.WriteLine($"  {syntax.PadRight(width)}{lines[0]}");
            foreach (var line in lines.Skip(1))
            {
                writer.WriteLine(indent + line);
            }
        }

        if (command.Details.Length > 0)
        {
            writer.WriteLine();
            writer.Write(command.Details);
            if (!command.Details.EndsWith('\n'))
            {
                writer.WriteLine();
            }
        }
    }
}
