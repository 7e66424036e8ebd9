using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Evaluation;

/// <summary>One held-out evaluation of a run: a line of <c>eval.jsonl</c> (step 0 is the starting model).</summary>
public sealed record HeldOutResult
{
    public int Step { get; init; }
    public int Tasks { get; init; }
    public double GreedySuccessRate { get; init; }
    public double GreedyFormatRate { get; init; }
    public double? SampledSuccessRate { get; init; }
    public double? SampledFormatRate { get; init; }
    public double? PassAtK { get; init; }
    public int Samples { get; init; }
    public double Temperature { get; init; }
    public double Seconds { get; init; }

    /// <summary>The sampled rate where there is one (the number the recipe's "before" and "after" compare), else greedy.</summary>
    [JsonIgnore]
    public double HeadlineSuccessRate => SampledSuccessRate ?? GreedySuccessRate;

    /// <summary>e.g. <c>held-out success 12.4 % sampled (T=1, 500 tasks), 13.0 % greedy, format 99.8 % (41 s)</c>.</summary>
    public string Describe()
    {
        var sampled = SampledSuccessRate is { } s
            ? $"{Percent(s)} sampled (T={Temperature.ToString("0.##", CultureInfo.InvariantCulture)}, {Tasks} tasks x {Samples}), "
            : $"{Tasks} tasks, ";
        var format = SampledFormatRate ?? GreedyFormatRate;
        return $"held-out success {sampled}{Percent(GreedySuccessRate)} greedy, format {Percent(format)} ({Seconds:F0} s)";
    }

    private static string Percent(double rate) => (rate * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}

/// <summary>
/// Held-out evaluation during a run (recipe keys <c>eval_strategy</c>, <c>eval_steps</c>, <c>eval_on_start</c>,
/// <c>eval_tasks</c>, <c>eval_samples</c>): success on the first eval_tasks tasks of the fixed held-out set, greedy
/// and sampled at the recipe's temperature, appended to <c>eval.jsonl</c> in the run folder.
/// </summary>
public sealed class HeldOutEvaluation
{
    public const string FileName = "eval.jsonl";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly GrpoRecipe _recipe;
    private readonly QwenTokenizer _tokenizer;
    private readonly string _path;
    private readonly IReadOnlyList<CountdownTask> _tasks;

    public HeldOutEvaluation(GrpoRecipe recipe, QwenTokenizer tokenizer, string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(tokenizer);
        _recipe = recipe;
        _tokenizer = tokenizer;
        _path = Path.Combine(runDirectory, FileName);
        _tasks = TaskSplits.HeldOut(recipe.EvalTasks);
    }

    /// <summary>Evaluates <paramref name="policy"/> after <paramref name="step"/> and appends the line.</summary>
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
            PromptTemplate = _recipe.PromptTemplate,
        };
        var wasTraining = policy.training;
        policy.eval();
        EvaluationReport report;
        try
        {
            report = CountdownEvaluator.Evaluate(policy, _tokenizer, _tasks, options);
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
        File.AppendAllText(_path, JsonSerializer.Serialize(result, Json) + "\n");
        return result;
    }

    /// <summary>The evaluations recorded in a run folder, in file order; unreadable lines are skipped.</summary>
    public static IReadOnlyList<HeldOutResult> Read(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path))
        {
            return [];
        }

        var results = new List<HeldOutResult>();
        foreach (var line in File.ReadLines(path))
        {
            try
            {
                if (!string.IsNullOrWhiteSpace(line) && JsonSerializer.Deserialize<HeldOutResult>(line, Json) is { } result)
                {
                    results.Add(result);
                }
            }
            catch (JsonException)
            {
                // A line cut by a killed process: the others still count.
            }
        }

        return results;
    }
}
