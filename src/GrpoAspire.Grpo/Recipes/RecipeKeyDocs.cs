namespace GrpoAspire.Grpo.Recipes;

/// <summary>docs/recipe-keys.md, written from the key declarations; a test keeps the committed page equal to it.</summary>
internal static class RecipeKeyDocs
{
    public const string RelativePath = "docs/recipe-keys.md";

    public static string Markdown()
    {
        var lines = new List<string>
        {
            "# Recipe keys",
            string.Empty,
            "<!-- Generated from the [RecipeKey] declarations in src/GrpoAspire.Grpo/Recipes/GrpoRecipe.cs: do not edit by hand. -->",
            "<!-- Regenerate: GRPO_UPDATE_DOCS=1 dotnet test tests/GrpoAspire.Grpo.Tests --filter TheRecipeKeysPageIsGeneratedFromTheDeclarations -->",
            string.Empty,
            "A recipe (`recipes/*.yaml`) is a YAML mapping of these keys. Names and defaults are TRL's where TRL has the key.",
            "A value out of range fails with the key and its range, e.g. `recipe.yaml: num_generations: expected an integer in [2, 1024], got '1'`.",
            "`grpo train --recipe FILE --dry-run` prints every key with its value and where the value came from: `default`,",
            "`recipe`, or `command line` (`--output`, `--dataset`, `--model`, `--device`, `--data-parallel-devices`, `--max-steps`).",
            "Lists are YAML lists or comma-separated values.",
            string.Empty,
            "| key | type | default | range / values | help |",
            "| --- | --- | --- | --- | --- |",
        };
        lines.AddRange(RecipeKeys.All.Select(k =>
            $"| `{k.Name}` | {k.Type} | `{Cell(k.Default)}` | {Cell(k.Values)} | {Cell(k.Help)} |"));
        lines.AddRange(
        [
            string.Empty,
            "## Accepted without effect",
            string.Empty,
            "TRL and accelerate keys that configure what this runtime does differently or not at all: a recipe may hold them,",
            "and loading it prints one notice for each. Any other key warns and is ignored.",
            string.Empty,
            "| key | why |",
            "| --- | --- |",
        ]);
        lines.AddRange(RecipeLoader.AcceptedWithoutEffect.Select(pair => $"| `{pair.Key}` | {Cell(pair.Value)} |"));
        return string.Join('\n', lines) + "\n";
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
