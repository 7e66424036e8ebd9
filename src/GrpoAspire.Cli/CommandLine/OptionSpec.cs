namespace GrpoAspire.Cli.CommandLine;

/// <summary>
/// One <c>--name</c> option of a verb. <paramref name="ValueName"/> is null for a flag and names the value
/// in the help otherwise (<c>--input FILE</c>).
/// </summary>
public sealed record OptionSpec(string Name, string? ValueName, string Description, bool Required = false)
{
    public bool TakesValue => ValueName is not null;

    public string Syntax => TakesValue ? $"--{Name} {ValueName}" : $"--{Name}";
}
