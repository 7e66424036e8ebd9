using System.Diagnostics;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Tasks;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Evaluation;

/// <summary>Settings of an evaluation run.</summary>
public sealed record EvaluationOptions
{
    public int MaxNewTokens { get; init; } = 256;
    public int MaxPromptLength { get; init; } = 512;
    public int BatchSize { get; init; } = 64;

    /// <summary>Samples per task for the sampled success rate and pass@k (0 = greedy only).</summary>
    public int Samples { get; init; } = 4;

    public double Temperature { get; init; } = 1.0;
    public long Seed { get; init; } = 1234;
    public PromptTemplate Template { get; init; } = PromptTemplate.Get(PromptTemplate.SeedR1);

    /// <summary>How the sampler decodes; null = the defaults with the environment's overrides.</summary>
    public DecodeOptions? Decode { get; init; }
}

/// <summary>Success rates on a task set: greedy, sampled (mean over samples), pass@k, and format rates.</summary>
public sealed record EvaluationReport(
    int Tasks,
    double GreedySuccessRate,
    double GreedyFormatRate,
    double? SampledSuccessRate,
    double? SampledFormatRate,
    double? PassAtK,
    int Samples,
    double Seconds);

/// <summary>Measures how often a model solves records of built-in tasks (their verdict is "correct"), never with eval.</summary>
public static class TaskEvaluator
{
    public static EvaluationReport Evaluate(
        Qwen2ForCausalLM model, QwenTokenizer tokenizer, IReadOnlyList<TaskRecord> tasks, EvaluationOptions options,
        IProgress<(int Done, int Total)>? progress = null)
    {
        var watch = Stopwatch.StartNew();
        var template = options.Template;
        var prompts = tasks.Select(t =>
        {
            var ids = tokenizer.Encode(template.Render(t));
            return ids.Count > options.MaxPromptLength ? ids.Skip(ids.Count - options.MaxPromptLength).ToArray() : ids;
        }).ToArray();
        var sampler = new Sampler(model, options: options.Decode);
        var eos = new[] { tokenizer.EosTokenId };
        string Decode(int[] ids) => tokenizer.Decode(ids, skipSpecialTokens: true);
        var total = tasks.Count * (1 + options.Samples);
        var done = 0;

        var greedy = Run(sampler, prompts, 1, new SamplingParams { Temperature = 0, MaxNewTokens = options.MaxNewTokens, EosTokenIds = eos }, options.BatchSize,
            n => progress?.Report((done += n, total)));
        bool Solves(string text, TaskRecord record) => BuiltInTasks.BuiltInTasks.Catalog.Task(record.Task).Verdict(text, record) == ITaskJudge.Correct;
        var greedyCorrect = greedy.Select((s, i) => Solves(Decode(s.TokenIds), tasks[i])).ToArray();
        var greedyFormat = greedy.Count(s => CompletionFormat.IsWellFormed(Decode(s.TokenIds)));
        if (options.Samples == 0)
        {
            return new EvaluationReport(tasks.Count, Rate(greedyCorrect.Count(c => c), tasks.Count), Rate(greedyFormat, tasks.Count), null, null, null, 0, watch.Elapsed.TotalSeconds);
        }

        var sampling = new SamplingParams { Temperature = options.Temperature, MaxNewTokens = options.MaxNewTokens, EosTokenIds = eos, Seed = options.Seed };
        var sampled = Run(sampler, prompts, options.Samples, sampling, options.BatchSize, n => progress?.Report((done += n, total)));
        var solvedPerTask = new int[tasks.Count];
        var sampledFormat = 0;
        for (var i = 0; i < sampled.Count; i++)
        {
            var task = i / options.Samples;
            var text = Decode(sampled[i].TokenIds);
            solvedPerTask[task] += Solves(text, tasks[task]) ? 1 : 0;
            sampledFormat += CompletionFormat.IsWellFormed(text) ? 1 : 0;
        }

        return new EvaluationReport(
            tasks.Count,
            Rate(greedyCorrect.Count(c => c), tasks.Count),
            Rate(greedyFormat, tasks.Count),
            Rate(solvedPerTask.Sum(), sampled.Count),
            Rate(sampledFormat, sampled.Count),
            Rate(solvedPerTask.Count(s => s > 0), tasks.Count),
            options.Samples,
            watch.Elapsed.TotalSeconds);
    }

    private static double Rate(int count, int total) => total == 0 ? 0 : count / (double)total;

    /// <summary>Each prompt repeated <paramref name="repeats"/> times (consecutively), in batches.</summary>
    private static IReadOnlyList<GeneratedSequence> Run(
        Sampler sampler, IReadOnlyList<IReadOnlyList<int>> prompts, int repeats, SamplingParams parameters, int batchSize, Action<int> progress)
    {
        var expanded = prompts.SelectMany(p => Enumerable.Repeat(p, repeats)).ToArray();
        var results = new List<GeneratedSequence>(expanded.Length);
        for (var start = 0; start < expanded.Length; start += batchSize)
        {
            var batch = expanded.Skip(start).Take(batchSize).ToArray();
            results.AddRange(sampler.Generate(batch, parameters with { Seed = parameters.Seed + start }));
            progress(batch.Length);
        }

        return results;
    }
}
