using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Grpo.Math;
using GrpoAspire.Grpo.Recipes;

namespace GrpoAspire.Grpo.Tests;

public sealed class RecipeTests
{
    internal static string RepoFile(string relative)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, relative);
    }

    [Fact]
    public void TheSeedsRecipeLoadsWithItsValues()
    {
        var (recipe, notices) = RecipeLoader.LoadFile(RepoFile("recipes/grpo-qwen-2.5-3b-deepseek-r1-countdown.yaml"));
        Assert.Equal(5e-7, recipe.LearningRate);
        Assert.Equal(0.001, recipe.Beta);
        Assert.Equal((256, 1024), (recipe.MaxPromptLength, recipe.MaxCompletionLength));
        Assert.Equal(450, recipe.MaxSteps);
        Assert.Equal(8, recipe.NumGenerations);
        Assert.Equal(24, recipe.PromptsPerStep);
        Assert.Equal(LrSchedulerType.Cosine, recipe.LrSchedulerType);
        Assert.Equal(0.03, recipe.WarmupRatio);
        Assert.Equal(25, recipe.SaveSteps);
        Assert.Contains(notices, n => n.StartsWith("notice: use_vllm", StringComparison.Ordinal));
        Assert.Contains(notices, n => n.StartsWith("notice: push_to_hub", StringComparison.Ordinal));
        Assert.DoesNotContain(notices, n => n.StartsWith("warning", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("learning_rate: -1", "learning_rate")]
    [InlineData("learning_rate: fast", "learning_rate")]
    [InlineData("num_generations: 1", "num_generations")]
    [InlineData("lr_scheduler_type: exponential", "lr_scheduler_type")]
    [InlineData("loss_type: ppo", "valid: grpo, bnpo, dr_grpo, dapo")]
    [InlineData("scale_rewards: sometimes", "scale_rewards")]
    [InlineData("reward_funcs: [format, accuracy]", "equation_tinyzero")]
    [InlineData("reward_funcs: [format]\nreward_weights: [1, 2]", "reward_weights")]
    [InlineData("epsilon: 0.2\nepsilon_high: 0.1", "epsilon_high")]
    [InlineData("bf16: maybe", "bf16")]
    [InlineData("- just a list", "mapping")]
    [InlineData("max_steps: [1, 2", "not valid YAML")]
    [InlineData("max_task_numbers: 7", "max_task_numbers")]
    public void BadValuesFailWithAMessageNamingTheKey(string yaml, string expected)
    {
        var error = Assert.Throws<RecipeException>(() => RecipeLoader.Load(yaml));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownKeysWarnAndOurOwnKeysApply()
    {
        var (recipe, notices) = RecipeLoader.Load(
            "loss_type: dr_grpo\nscale_rewards: none\nepsilon_high: 0.28\nreward_funcs: [format, equation_tinyzero]\n"
            + "reward_weights: [0.5, 1]\nlearning_rte: 1e-5\n");
        Assert.Equal(LossType.DrGrpo, recipe.LossType);
        Assert.Equal(ScaleRewards.None, recipe.ScaleRewards);
        Assert.Equal(0.28, recipe.EffectiveEpsilonHigh);
        Assert.Equal([new Tasks.RewardWeight("format", 0.5), new Tasks.RewardWeight("equation_tinyzero", 1)], recipe.Rewards);
        Assert.Contains("warning: unknown key 'learning_rte' in recipe is ignored", notices);
    }

    [Fact]
    public async Task MaxTaskNumbersKeepsOnlySmallerTasksForTrainingAndNeverTheHeldOutOnes()
    {
        var (all, _) = RecipeLoader.Load("max_tasks: 400\neval_tasks: 500\n");
        var (three, _) = RecipeLoader.Load("max_tasks: 400\neval_tasks: 500\nmax_task_numbers: 3\n");
        Assert.Equal(0, all.MaxTaskNumbers);
        var every = await GrpoAspire.Grpo.Training.TrainingData.LoadAsync(all);
        var kept = await GrpoAspire.Grpo.Training.TrainingData.LoadAsync(three);
        var everyTask = every.Select(Countdown.CountdownDefinition.ToTask).ToArray();
        var keptTasks = kept.Select(Countdown.CountdownDefinition.ToTask).ToArray();
        Assert.Contains(everyTask, t => t.Nums.Count == 4);
        Assert.All(keptTasks, t => Assert.Equal(3, t.Nums.Count));
        Assert.Equal(everyTask.Where(t => t.Nums.Count <= 3).Select(t => t.Key), keptTasks.Select(t => t.Key)); // the same draw, filtered
        var heldOut = Countdown.Datasets.TaskSplits.HeldOut(500).Select(t => t.Key).ToHashSet();
        Assert.DoesNotContain(keptTasks, t => heldOut.Contains(t.Key));

        var (none, _) = RecipeLoader.Load("max_tasks: 50\nmax_task_numbers: 2\n");
        var error = await Assert.ThrowsAsync<Countdown.Datasets.TaskDataException>(() => GrpoAspire.Grpo.Training.TrainingData.LoadAsync(none));
        Assert.Contains("max_task_numbers", error.Message, StringComparison.Ordinal);
    }
}
