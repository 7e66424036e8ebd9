using GrpoAspire.Countdown;
using GrpoAspire.Tasks;
using GrpoAspire.Countdown.Evaluation;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Evaluation;

/// <summary>
/// Held-out evaluation during a run (recipe keys <c>eval_strategy</c>, <c>eval_steps</c>, <c>eval_on_start</c>,
/// <c>eval_tasks</c>, <c>eval_samples</c>): success on the first eval_tasks tasks of the fixed held-out set, greedy
/// and sampled at the recipe's temperature (the run folder keeps the results: <see cref="Training.RunFolder"/>).
/// </summary>
public sealed class HeldOutEvaluation
{
    private readonly GrpoRecipe _recipe;
    private readonly QwenTokenizer _tokenizer;
    private readonly IReadOnlyList<TaskRecord> _tasks;

    public HeldOutEvaluation(GrpoRecipe recipe, QwenTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(tokenizer);
        _recipe = recipe;
        _tokenizer = tokenizer;
        _tasks = recipe.Definition().HeldOut(recipe.EvalTasks);
    }

    /// <summary>Evaluates <paramref name="policy"/> after <paramref name="step"/>.</summary>
    public HeldOutResult Run(Qwen2ForCausalLM policy, int step)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var options = new EvaluationOptions
        {
            Samples = _recipe.EvalSamples,
            MaxNewTokens = _recipe.MaxCompletionLength,
            MaxPromptLength = _recipe.MaxPromptLength,
            BatchSize = _recipe.PerDeviceEvalBatchSize,
            Temperature = _recipe.Temperature,
            Template = _recipe.Template(),
            Decode = _recipe.Decode,
        };
        var wasTraining = policy.training;
        policy.eval();
        EvaluationReport report;
        try
        {
            report = TaskEvaluator.Evaluate(policy, _tokenizer, _tasks, options);
        }
        finally
        {
            if (wasTraining)
            {
                policy.train();
            }
        }

        var result = new HeldOutResult
        {
            Step = step, Tasks = report.Tasks, GreedySuccessRate = report.GreedySuccessRate, GreedyFormatRate = report.GreedyFormatRate,
            SampledSuccessRate = report.SampledSuccessRate, SampledFormatRate = report.SampledFormatRate, PassAtK = report.PassAtK,
            Samples = report.Samples, Temperature = options.Temperature, Seconds = System.Math.Round(report.Seconds, 2),
        };
        return result;
    }
}
