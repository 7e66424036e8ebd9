using System.Diagnostics;
using System.Globalization;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;

namespace ModelBench;

/// <summary>
/// Tokens/s of the batch-at-once <see cref="Sampler"/> (on consecutive chunks of at most `rows` sequences, as a replica
/// does today) against <see cref="ContinuousSampler"/> with `rows` rows, on a skewed length distribution: temperature 1
/// with a set of end-of-sequence tokens on a random model, so lengths are geometric (many short, a few long). The two
/// samplers draw different random streams, so their completions (and token counts, reported) differ a little.
/// </summary>
internal static class ContinuousBench
{
    public static Dictionary<string, object> Run(Qwen2ForCausalLM model, Args options)
    {
        var sequences = options.PositiveInt("sequences", 128);
        var rowsList = options.Get("rows", "32,128").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var maxNew = options.PositiveInt("new", 256);
        var eosCount = options.PositiveInt("eos", 13);
        var repeats = options.PositiveInt("repeats", 3);
        var vocabulary = model.Config.VocabSize;
        var random = new Random(17);
        var prompts = Enumerable.Range(0, sequences)
            .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, random.Next(24, 65)).Select(_ => random.Next(0, vocabulary)).ToArray())
            .ToArray();
        // A random model's next-token distribution is close to uniform: each step ends a completion with probability
        // about eos / vocabulary, so lengths are geometric (many short, a few long), capped at the limit.
        var eos = Enumerable.Range(0, eosCount).Select(i => vocabulary - 1 - i).ToArray();
        var parameters = new SamplingParams { Temperature = 1.0, MaxNewTokens = maxNew, EosTokenIds = eos, Seed = 1 };
        var sampler = new Sampler(model);
        var continuous = new ContinuousSampler(model);
        var results = new Dictionary<string, object>
        {
            ["sequences"] = sequences, ["max_new_tokens"] = maxNew, ["eos_token_count"] = eosCount, ["repeats"] = repeats,
            ["prompt_tokens"] = "24..64", ["temperature"] = 1.0,
        };

        var reference = continuous.Generate(prompts.Select(p => new SamplingRequest(p)).ToArray(), parameters, sequences); // also a warm-up
        sampler.Generate(prompts.Take(8).ToArray(), parameters with { MaxNewTokens = 8 });
        var lengths = reference.Sequences.Select(r => r[0].TokenIds.Length).Order().ToArray();
        results["completion_tokens"] = lengths.Sum();
        results["length_p50_p90_max"] = new[] { lengths[lengths.Length / 2], lengths[lengths.Length * 9 / 10], lengths[^1] };
        results["completions_at_limit"] = lengths.Count(l => l == maxNew);
        Console.Error.WriteLine($"lengths p50 {lengths[lengths.Length / 2]}, p90 {lengths[lengths.Length * 9 / 10]}, max {lengths[^1]}; {lengths.Sum()} tokens");

        foreach (var rows in rowsList)
        {
            // Today's replica path: consecutive batches of at most `rows` sequences (Generation:MaxBatchSequences).
            var chunked = new List<(int Tokens, double Rate)>();
            var batched = new List<(int Tokens, double Rate)>();
            var requests = prompts.Select(p => new SamplingRequest(p)).ToArray();
            ContinuousBatchStats? stats = null;
            for (var repeat = 0; repeat < repeats; repeat++)
            {
                // Alternated, so that load from other processes falls on both sides alike.
                var seeded = parameters with { Seed = repeat + 1 };
                chunked.Add(Measure(() => prompts.Chunk(rows).SelectMany(chunk => sampler.Generate(chunk, seeded)).ToArray()));
                batched.Add(Measure(() =>
                {
                    var output = continuous.Generate(requests, seeded, rows);
                    stats = output.Stats;
                    return output.Sequences.Select(s => s[0]).ToArray();
                }));
            }

            results[$"sampler_rows{rows}_tok_per_s"] = chunked.Select(c => c.Rate).ToArray();
            results[$"sampler_rows{rows}_tokens"] = chunked.Select(c => c.Tokens).ToArray();
            results[$"continuous_rows{rows}_tok_per_s"] = batched.Select(c => c.Rate).ToArray();
            results[$"continuous_rows{rows}_tokens"] = batched.Select(c => c.Tokens).ToArray();
            results[$"continuous_rows{rows}_occupancy"] = Math.Round(stats!.MeanOccupancy, 3);
            Console.Error.WriteLine(
                $"rows {rows}: sampler {string.Join(" ", chunked.Select(c => c.Rate))} tok/s, " +
                $"continuous {string.Join(" ", batched.Select(c => c.Rate))} tok/s (occupancy {stats.MeanOccupancy:F2})");
        }

        return results;
    }

    private static (int Tokens, double Rate) Measure(Func<GeneratedSequence[]> run)
    {
        var (lengths, rate) = AhaRolloutBench.Measure(run);
        return (lengths.Sum(), rate);
    }
}
