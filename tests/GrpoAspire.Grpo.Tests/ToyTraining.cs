using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Tests;

/// <summary>What the trainer tests share: a toy reward a random model can learn, and a trainer setup on it.</summary>
internal static class ToyTraining
{
    /// <summary>Rewards ASCII-range tokens, so that a random model gets varied rewards and actually learns.</summary>
    public static RewardBreakdown AsciiReward(PromptJob prompt, string text, int[] tokens)
    {
        double count = tokens.Count(t => t < 128);
        return new RewardBreakdown([new RewardValue("equation", count)], count, "wrong_value");
    }

    /// <summary>
    /// A run of <paramref name="recipe"/> (a random:* model, made once in <paramref name="folder"/>) on 50 generated tasks
    /// with <see cref="AsciiReward"/>, writing to <paramref name="folder"/>/<paramref name="run"/>.
    /// </summary>
    public static TrainerSetup Setup(GrpoRecipe recipe, string folder, string run, string? resume = null)
    {
        var model = ModelResolver.Resolve(recipe.ModelNameOrPath, folder, recipe.Seed);
        var tasks = new TaskGenerator(1).Take(50).Select(Countdown.CountdownDefinition.ToRecord).ToList();
        return new TrainerSetup(recipe, model, QwenTokenizer.FromDirectory(model), tasks, Path.Combine(folder, run), resume, AsciiReward);
    }

    /// <summary>Steps <paramref name="trainer"/> to <paramref name="untilStep"/> (default: max_steps); returns each step's metrics.</summary>
    public static async Task<IReadOnlyList<StepMetrics>> TrainAsync(this GrpoTrainer trainer, int? untilStep = null)
    {
        var steps = new List<StepMetrics>();
        while (!trainer.IsFinished && trainer.GlobalStep < (untilStep ?? int.MaxValue))
        {
            steps.Add((await trainer.StepAsync()).Metrics);
        }

        return steps;
    }
}
