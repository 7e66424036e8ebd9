using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Tests;

public sealed class TrainerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-trainer").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static GrpoRecipe Recipe => new()
    {
        ModelNameOrPath = "random:tiny", MaxSteps = 4, PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = 2,
        NumGenerations = 4, MaxCompletionLength = 12, MaxPromptLength = 512, LearningRate = 1e-3, Beta = 0.04,
        SaveSteps = 2, Seed = 3, LrSchedulerType = LrSchedulerType.Cosine, WarmupRatio = 0.25,
    };

    /// <summary>Rewards ASCII-range tokens, so that a random model gets varied rewards and actually learns.</summary>
    private static RewardBreakdown ToyReward(PromptJob prompt, string text, int[] tokens)
    {
        double count = tokens.Count(t => t < 128);
        return new RewardBreakdown([new RewardValue(RewardFunction.Equation, count)], count, EquationVerdict.WrongValue);
    }

    private TrainerSetup Setup(string run, string? resume = null)
    {
        var model = ModelResolver.Resolve(Recipe.ModelNameOrPath, _folder, Recipe.Seed);
        var tasks = new TaskGenerator(1).Take(50).ToList();
        return new TrainerSetup(Recipe, model, QwenTokenizer.FromDirectory(model), tasks, Path.Combine(_folder, run), resume, ToyReward);
    }

    [Fact]
    public void FourStepsStraightEqualTwoStepsThenResumeThenTwoSteps()
    {
        using (var straight = new GrpoTrainer(Setup("straight")))
        {
            straight.Train();
        }

        using (var first = new GrpoTrainer(Setup("resumed")))
        {
            first.Train(untilStep: 2);
        }

        var checkpoint = CheckpointFolders.Latest(Path.Combine(_folder, "resumed"));
        Assert.EndsWith("checkpoint-2", checkpoint, StringComparison.Ordinal);
        using (var second = new GrpoTrainer(Setup("resumed", checkpoint)))
        {
            Assert.Equal(2, second.GlobalStep);
            second.Train();
        }

        var a = File.ReadAllBytes(Path.Combine(_folder, "straight", "checkpoint-4", "model.safetensors"));
        var b = File.ReadAllBytes(Path.Combine(_folder, "resumed", "checkpoint-4", "model.safetensors"));
        Assert.Equal(a, b);
        var initial = File.ReadAllBytes(Path.Combine(_folder, "initial-model", "model.safetensors"));
        Assert.NotEqual(initial, a);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(_folder, "straight", "metrics.jsonl")).Length);
    }
}
