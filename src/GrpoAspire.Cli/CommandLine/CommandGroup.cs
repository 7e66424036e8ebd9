namespace GrpoAspire.Cli.CommandLine;

/// <summary>
/// A verb made of sub-verbs (<c>grpo tokenizer train</c>): the first argument after it names the sub-command. Each
/// sub-command's <see cref="IVerb.Name"/> is the full path after <c>grpo</c> ("tokenizer train"), so its usage and
/// error lines read as typed.
/// </summary>
public sealed class CommandGroup : IVerb
{
    public CommandGroup(string name, string summary, IReadOnlyList<ICommand> subCommands)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(subCommands);
        if (subCommands.Count == 0)
        {
            throw new ArgumentException($"command group '{name}' has no sub-commands", nameof(subCommands));
        }

        foreach (var command in subCommands.Where(c => !c.Name.StartsWith(name + " ", StringComparison.Ordinal)))
        {
            throw new ArgumentException($"sub-command '{command.Name}' of '{name}' must be named '{name} <word>'", nameof(subCommands));
        }

        (Name, Summary, SubCommands) = (name, summary, subCommands);
    }

    public string Name { get; }

    public string Summary { get; }

    /// <summary>The sub-commands, in the order the group's help lists them.</summary>
    public IReadOnlyList<ICommand> SubCommands { get; }

    /// <summary>The word that picks <paramref name="command"/> ("train" for "tokenizer train").</summary>
    public string WordOf(ICommand command) => command.Name[(Name.Length + 1)..];

    /// <summary>The sub-command picked by <paramref name="word"/>, or null.</summary>
    public ICommand? Find(string word) => SubCommands.FirstOrDefault(c => WordOf(c) == word);
}
