using System.Diagnostics;
using System.Runtime;
using System.Globalization;
using System.Text;
using System.Text.Json;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Benchmarks.Reward;

/// <summary>
/// <c>score</c>: loads every line into memory, then times <see cref="CountdownScorer"/> (format + equation,
/// the seed's reward set) on one thread over all of them, after a warm-up for the JIT. Reports the best of
/// the timed passes (the least disturbed by other processes, as Python's timeit does) and their median.
/// </summary>
internal static class ScoreBenchmark
{
    /// <summary>Lines per call of the inner loop, so that it is called often enough to be tiered up.</summary>
    private const int ChunkSize = 1000;

    public static async Task<int> RunAsync(BenchArguments arguments)
    {
        var input = arguments.String("input");
        var repeats = arguments.Int32("repeat", 5);
        var (completions, tasks) = await LoadAsync(input);
        var scorer = new CountdownScorer(RewardWeight.SeedDefaults);

        var warmUp = WarmUp(scorer, completions, tasks);
        var runs = new List<double>();
        var checksum = 0.0;
        for (var r = 0; r < repeats; r++)
        {
            GC.Collect();
            var watch = Stopwatch.StartNew();
            checksum = ScoreAll(scorer, completions, tasks);
            runs.Add(watch.Elapsed.TotalSeconds);
        }

        if (arguments.Optional("scores-out") is { } scoresPath)
        {
            await WriteScoresAsync(scoresPath, scorer, completions, tasks);
        }

        var best = runs.Min();
        var median = runs.Order().ElementAt(runs.Count / 2);
        var report = new
        {
            implementation = "GrpoAspire CountdownScorer (C#, format + equation)",
            completions = completions.Length,
            seconds = Math.Round(best, 4),
            completions_per_s = Math.Round(completions.Length / best, 1),
            median_seconds = Math.Round(median, 4),
            median_completions_per_s = Math.Round(completions.Length / median, 1),
            repeats,
            warm_up_s = Math.Round(warmUp, 2),
            runs_s = runs.Select(s => Math.Round(s, 4)),
            checksum_total = checksum,
            runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }

    /// <summary>
    /// Scores the corpus until the JIT has been quiet for two seconds (at least three seconds and three
    /// passes, at most a minute). Tiered compilation moves a hot method from quick code to instrumented
    /// code to optimized code in the background, each step after a delay that restarts whenever new code
    /// is compiled and that is ten times longer (1 s) on a single processor, as under taskset. A fixed
    /// short warm-up sometimes timed unoptimized code there: half the speed.
    /// </summary>
    private static double WarmUp(CountdownScorer scorer, string[] completions, CountdownTask[] tasks)
    {
        var watch = Stopwatch.StartNew();
        var compiled = JitInfo.GetCompiledMethodCount();
        var lastChange = TimeSpan.Zero;
        for (var pass = 1; ; pass++)
        {
            ScoreAll(scorer, completions, tasks);
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                (compiled, lastChange) = (now, watch.Elapsed);
            }

            var quiet = watch.Elapsed - lastChange;
            if ((pass >= 3 && watch.Elapsed.TotalSeconds >= 3 && quiet.TotalSeconds >= 2) || watch.Elapsed.TotalSeconds >= 60)
            {
                return watch.Elapsed.TotalSeconds;
            }
        }
    }

    /// <summary>Scores every line, in chunks; the summed totals keep the work observable.</summary>
    private static double ScoreAll(CountdownScorer scorer, string[] completions, CountdownTask[] tasks)
    {
        var sum = 0.0;
        for (var start = 0; start < completions.Length; start += ChunkSize)
        {
            sum += ScoreChunk(scorer, completions, tasks, start, Math.Min(completions.Length, start + ChunkSize));
        }

        return sum;
    }

    private static double ScoreChunk(CountdownScorer scorer, string[] completions, CountdownTask[] tasks, int start, int end)
    {
        var sum = 0.0;
        for (var i = start; i < end; i++)
        {
            sum += scorer.Score(completions[i], tasks[i]).Total;
        }

        return sum;
    }

    internal static async Task<(string[] Completions, CountdownTask[] Tasks)> LoadAsync(string path)
    {
        var completions = new List<string>();
        var tasks = new List<CountdownTask>();
        await foreach (var line in File.ReadLinesAsync(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            completions.Add(root.GetProperty("completion").GetString()!);
            var nums = root.GetProperty("nums").EnumerateArray().Select(n => n.GetInt64()).ToArray();
            tasks.Add(new CountdownTask(nums, root.GetProperty("target").GetInt64()));
        }

        return (completions.ToArray(), tasks.ToArray());
    }

    /// <summary>One "format TAB equation TAB verdict" line per completion, for comparison with the Python peer.</summary>
    private static async Task WriteScoresAsync(string path, CountdownScorer scorer, string[] completions, CountdownTask[] tasks)
    {
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        for (var i = 0; i < completions.Length; i++)
        {
            var breakdown = scorer.Score(completions[i], tasks[i]);
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{breakdown.ValueOf(RewardFunction.Format):0.0}\t{breakdown.ValueOf(RewardFunction.Equation):0.0}\t{breakdown.EquationVerdict.ToWireName()}"));
        }
    }
}
