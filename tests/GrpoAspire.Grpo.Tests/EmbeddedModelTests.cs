using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Grpo.Evaluation;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Tests;

/// <summary>The shipped countdown-tiny warm start: resolvable by name, loadable, and it answers in the learned format.</summary>
public sealed class EmbeddedModelTests
{
    [Fact]
    public void TheEmbeddedWarmStartAnswersHeldOutTasksInTheSeedsFormat()
    {
        var folder = ModelResolver.Resolve(ModelResolver.EmbeddedDefault, Path.GetTempPath(), seed: 1);
        Assert.Equal(ModelResolver.EmbeddedDefaultFolder, folder);
        using var model = Qwen2Checkpoint.Load(folder);
        Assert.Equal(4_512_000, model.ParameterCount());
        var report = TaskEvaluator.Evaluate(model, QwenTokenizer.FromDirectory(folder), TaskSplits.HeldOut(16).Select(Countdown.CountdownDefinition.ToRecord).ToArray(),
            new EvaluationOptions { Samples = 0, MaxNewTokens = 256, Template = Tasks.Prompts.PromptTemplate.Get(Tasks.Prompts.PromptTemplate.Compact) });
        Assert.True(report.GreedyFormatRate >= 0.9, $"format rate {report.GreedyFormatRate}");
    }
}
