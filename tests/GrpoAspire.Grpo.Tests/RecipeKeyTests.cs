using System.Reflection;
using System.Text.RegularExpressions;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Grpo.Tests;

/// <summary>The key declarations on <see cref="GrpoRecipe"/>: one per property, defaults, sources, command-line overrides, docs.</summary>
public sealed partial class RecipeKeyTests
{
    [Fact]
    public void EveryRecipePropertyIsSetByExactlyOneKeyExceptRewardsWhichItsFunctionsAndWeightsSet()
    {
        var settable = typeof(GrpoRecipe).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is not null);
        foreach (var property in settable)
        {
            var keys = property.GetCustomAttributes<RecipeKeyAttribute>().Select(k => k.Name).ToArray();
            string[] expected = property.Name == nameof(GrpoRecipe.Rewards) ? ["reward_funcs", "reward_weights"] : [Assert.Single(keys)];
            Assert.Equal(expected, keys);
        }

        var names = RecipeKeys.All.Select(k => k.Name).ToArray();
        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.All(names, name => Assert.Matches(SnakeCase(), name));
        Assert.All(RecipeKeys.All, k => Assert.False(string.IsNullOrWhiteSpace(k.Help), $"{k.Name} has no help"));
    }

    [Fact]
    public void TheDeclaredDefaultsAreANewRecipeAndReadBackAsOne()
    {
        var defaults = new GrpoRecipe();
        Assert.Equal(RecipeKeys.All.Select(k => k.Format(defaults)), RecipeKeys.All.Select(k => k.Default));

        // Written out key by key, the defaults pass their own ranges and load as the defaults; an unset epsilon_high and
        // an empty device list have no value to write.
        var yaml = string.Join('\n', RecipeKeys.All
            .Where(k => k.Name is not ("epsilon_high" or "data_parallel_devices"))
            .Select(k => $"{k.Name}: {k.Default}"));
        var loaded = RecipeLoader.Load(yaml);
        Assert.Equal(TrainingRun.Describe(defaults), TrainingRun.Describe(loaded.Recipe));
        Assert.Empty(loaded.Notices);
    }

    [Fact]
    public void EveryKeySaysWhetherItsValueIsTheDefaultTheRecipesOrTheCommandLines()
    {
        var loaded = RecipeLoader.Load("max_steps: 45\noutput_dir: runs/recipe\n").Override("output_dir", "runs/x");
        var settings = loaded.Settings.ToDictionary(s => s.Key);
        Assert.Equal(RecipeKeys.All.Count, settings.Count);
        Assert.Equal("max_steps: 45  (recipe)", settings["max_steps"].Describe());
        Assert.Equal("max_staleness: 0  (default)", settings["max_staleness"].Describe());
        Assert.Equal("output_dir: runs/x  (command line)", settings["output_dir"].Describe());
        Assert.Equal("runs/x", loaded.Recipe.OutputDir);
        Assert.Equal(2, settings.Values.Count(s => s.Source != RecipeSource.Default));
    }

    [Theory]
    [InlineData("max_staleness", "65", "command line: max_staleness: expected an integer in [0, 64], got '65'")]
    [InlineData("learning_rate", "0", "command line: learning_rate: expected a number in (0, 1], got '0'")]
    [InlineData("loss_type", "ppo", "command line: loss_type: loss_type 'ppo' is not valid; valid: grpo, bnpo, dr_grpo, dapo")]
    [InlineData("save_strategy", "epoch", "command line: save_strategy: 'epoch' is not valid; valid: steps, no")]
    [InlineData("max_step", "3", "command line: unknown key 'max_step'")]
    public void ABadCommandLineOverrideFailsWithTheKeysMessage(string key, string value, string message)
    {
        var loaded = RecipeLoader.Load("max_steps: 45\n");
        Assert.Equal(message, Assert.Throws<RecipeException>(() => loaded.Override(key, value)).Message);
    }

    [Fact]
    public void TheRunOptionsAreCommandLineOverridesCheckedLikeTheRecipe()
    {
        var loaded = RecipeLoader.Load("max_steps: 45\ndevice: cuda:0\n");
        var applied = TrainingRun.Apply(loaded, new TrainingRunOptions { Output = "runs/x", MaxSteps = 7, DataParallelDevices = "cuda:1, cuda:2" });
        Assert.Equal((7, "runs/x"), (applied.Recipe.MaxSteps, applied.Recipe.OutputDir));
        foreach (var key in new[] { "max_steps", "output_dir", "data_parallel_devices" })
        {
            Assert.Equal(RecipeSource.CommandLine, applied.SourceOf(key));
        }

        // A device list on the command line moves the master off the recipe's device, and the device says where it came from.
        Assert.Equal(("cuda:1", RecipeSource.CommandLine), (applied.Recipe.Device, applied.SourceOf("device")));
        Assert.Same(loaded, TrainingRun.Apply(loaded, new TrainingRunOptions()));

        var zero = Assert.Throws<RecipeException>(() => TrainingRun.Apply(loaded, new TrainingRunOptions { MaxSteps = 0 }));
        Assert.Equal("command line: max_steps: expected an integer in [1, 10000000], got '0'", zero.Message);
        var notMaster = Assert.Throws<RecipeException>(() => TrainingRun.Apply(loaded, new TrainingRunOptions { Device = "cuda:2", DataParallelDevices = "cuda:1,cuda:2" }));
        Assert.StartsWith("command line: device cuda:2 is not the first of data_parallel_devices [cuda:1, cuda:2]", notMaster.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOverrideChecksTheRulesBetweenKeysAgain()
    {
        var loaded = RecipeLoader.Load("epsilon_high: 0.28\n");
        var error = Assert.Throws<RecipeException>(() => loaded.Override("epsilon", "0.3"));
        Assert.Equal("command line: epsilon_high 0.28 is below epsilon 0.3; the upper clip must be at least the lower one", error.Message);
        Assert.Equal(0.28, loaded.Override("epsilon", "0.25").Recipe.EffectiveEpsilonHigh);
    }

    [Fact]
    public void TheRecipeKeysPageIsGeneratedFromTheDeclarations()
    {
        var path = RecipeTests.RepoFile(RecipeKeyDocs.RelativePath);
        var expected = RecipeKeyDocs.Markdown();
        if (Environment.GetEnvironmentVariable("GRPO_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, expected);
        }

        var committed = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : string.Empty;
        Assert.True(committed == expected,
            $"{RecipeKeyDocs.RelativePath} is not what the [RecipeKey] declarations on GrpoRecipe say; regenerate it with "
            + "GRPO_UPDATE_DOCS=1 dotnet test tests/GrpoAspire.Grpo.Tests --filter TheRecipeKeysPageIsGeneratedFromTheDeclarations");
        Assert.All(RecipeKeys.All, k => Assert.Contains($"| `{k.Name}` |", committed, StringComparison.Ordinal));
    }

    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCase();
}
