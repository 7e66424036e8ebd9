namespace GrpoAspire.Grpo.Recipes;

/// <summary>Where a key's value came from, in order of precedence: a later source overrides an earlier one.</summary>
public enum RecipeSource
{
    Default,
    Recipe,
    CommandLine,
}

/// <summary>One key of a resolved recipe, as <c>--dry-run</c> prints it: <c>max_steps: 45  (recipe)</c>.</summary>
public sealed record RecipeSetting(string Key, string Value, RecipeSource Source)
{
    public string Describe() => $"{Key}: {Value}  ({Source.Label()})";
}

public static class RecipeSourceNames
{
    public static string Label(this RecipeSource source) => source switch
    {
        RecipeSource.Default => "default",
        RecipeSource.Recipe => "recipe",
        RecipeSource.CommandLine => "command line",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "valid: default, recipe, command line"),
    };
}
