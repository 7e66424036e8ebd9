using System.Diagnostics;
using System.Globalization;
using GrpoAspire.Countdown;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using GrpoAspire.Model.Tokenization;
using GrpoAspire.Tasks.Prompts;

namespace ModelBench;

/// <summary>
/// The replica's two engines on the aha recipe's own rollouts: the embedded model, the recipe's prompts (three-number
/// training tasks, compact template) and sampling (16 prompts x 8 completions, T = 1, up to 320 new tokens, ending at
/// the end-of-sequence token), so completion lengths spread as they do in the run. The batch-at-once sampler takes each
/// step's 128 sequences as one batch (the replica's default, <c>Generation:MaxBatchSequences</c> 256); the continuous
/// sampler takes them as 16 requests of 8 samples with `rows` rows (<c>Generation:MaxBatchRows</c>). Then the same with
/// every completion exactly 256 tokens long (no end-of-sequence token): the fixed-length case, where continuous
/// batching has nothing to refill.
/// </summary>
internal static class AhaRolloutBench
{
    private const int PromptsPerStep = 16;
    private const int Generations = 8;
    private const int MaxNewTokens = 320;
    private const int FixedTokens = 256;

    public static Dictionary<string, object> Run(string modelDirectory, Args options)
    {
        var steps = options.PositiveInt("steps", 3);
        var rowsList = options.Get("rows", "64,128").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var tokenizer = QwenTokenizer.FromDirectory(modelDirectory);
        using var model = Qwen2Checkpoint.Load(modelDirectory, TorchSharp.torch.CPU);
        model.eval();
        var template = PromptTemplate.Get("compact");
        var definition = CountdownDefinition.Instance;
        var tasks = definition.Generate(42, definition.HeldOut(500))
            .Where(r => CountdownDefinition.ToTask(r).Nums.Count <= 3)
            .Take(steps * PromptsPerStep)
            .Select(r => (IReadOnlyList<int>)tokenizer.Encode(template.Render(r)).ToArray())
            .Chunk(PromptsPerStep)
            .ToArray();
        var ending = new SamplingParams { Temperature = 1.0, MaxNewTokens = MaxNewTokens, EosTokenIds = [tokenizer.EosTokenId] };
        var fixedLength = new SamplingParams { Temperature = 1.0, MaxNewTokens = FixedTokens, EosTokenIds = [] };
        var sampler = new Sampler(model);
        var continuous = new ContinuousSampler(model);
        var results = new Dictionary<string, object>
        {
            ["model"] = modelDirectory, ["parameters"] = model.ParameterCount(), ["steps"] = steps,
            ["prompts_per_step"] = PromptsPerStep, ["num_generations"] = Generations, ["temperature"] = 1.0,
        };

        // Warm-up: both engines once on a short step.
        sampler.Generate(Batch(tasks[0]), ending with { MaxNewTokens = 8, Seed = 99 });
        continuous.Generate(Requests(tasks[0]), ending with { MaxNewTokens = 8, Seed = 99 }, rowsList[0]);

        foreach (var (name, parameters) in new[] { ("ending", ending), ("fixed256", fixedLength) })
        {
            var lengths = new List<int>();
            var batchRuns = new List<double>();
            var continuousRuns = rowsList.ToDictionary(r => r, _ => new List<double>());
            for (var step = 0; step < steps; step++)
            {
                // Alternated step by step, so that load from other processes falls on every engine alike.
                var seeded = parameters with { Seed = step + 1 };
                var (batchTokens, batchRate) = Measure(() => sampler.Generate(Batch(tasks[step]), seeded));
                batchRuns.Add(batchRate);
                foreach (var rows in rowsList)
                {
                    var (tokens, rate) = Measure(() =>
                        continuous.Generate(Requests(tasks[step]), seeded, rows).Sequences.SelectMany(s => s).ToArray());
                    continuousRuns[rows].Add(rate);
                    lengths.AddRange(tokens);
                }

                Console.Error.WriteLine($"{name} step {step + 1}: batch {batchRate} tok/s ({batchTokens.Sum()} tokens), "
                    + string.Join(", ", rowsList.Select(r => $"continuous rows {r} {continuousRuns[r][^1]} tok/s")));
            }

            var sorted = lengths.Order().ToArray();
            results[$"{name}_length_p50_p90_max"] = new[] { sorted[sorted.Length / 2], sorted[sorted.Length * 9 / 10], sorted[^1] };
            results[$"{name}_batch_all_tok_per_s"] = batchRuns;
            foreach (var rows in rowsList)
            {
                results[$"{name}_continuous_rows{rows}_tok_per_s"] = continuousRuns[rows];
                results[$"{name}_continuous_rows{rows}_vs_batch_median"] =
                    Math.Round(Median(continuousRuns[rows]) / Median(batchRuns), 2);
            }
        }

        return results;
    }

    private static IReadOnlyList<int>[] Batch(IReadOnlyList<int>[] prompts) =>
        prompts.SelectMany(p => Enumerable.Repeat(p, Generations)).ToArray();

    private static SamplingRequest[] Requests(IReadOnlyList<int>[] prompts) =>
        prompts.Select(p => new SamplingRequest(p, Generations)).ToArray();

    /// <summary>Runs <paramref name="run"/> once: each completion's length and the tokens per second.</summary>
    internal static (int[] Lengths, double Rate) Measure(Func<IReadOnlyList<GeneratedSequence>> run)
    {
        var watch = Stopwatch.StartNew();
        var lengths = run().Select(s => s.TokenIds.Length).ToArray();
        return (lengths, Math.Round(lengths.Sum() / watch.Elapsed.TotalSeconds, 1));
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
