using System.Text.Json;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Benchmarks.Reward;

/// <summary>
/// <c>compare-catalog</c>: scores every line of a corpus with <see cref="CountdownScorer"/> and through the task catalog
/// (a Countdown record, the reward functions by name, as the reward service and the trainer score), and counts the lines
/// whose verdict or total differ. Exit code 1 when any does.
/// </summary>
internal static class CatalogComparison
{
    public static async Task<int> RunAsync(BenchArguments arguments)
    {
        var (completions, tasks) = await ScoreBenchmark.LoadAsync(arguments.String("input"));
        var direct = new CountdownScorer(RewardWeight.SeedDefaults);
        var catalog = BuiltInTasks.BuiltInTasks.Catalog.Scorer(CountdownDefinition.Name, []);
        var verdictMismatches = 0;
        var totalMismatches = 0;
        var verdicts = new Dictionary<string, int>();
        for (var i = 0; i < completions.Length; i++)
        {
            var expected = direct.Score(completions[i], tasks[i]);
            var actual = catalog.Score(completions[i], CountdownDefinition.ToRecord(tasks[i]));
            var verdict = expected.EquationVerdict.ToWireName();
            verdicts[verdict] = verdicts.GetValueOrDefault(verdict) + 1;
            verdictMismatches += verdict == actual.Verdict ? 0 : 1;
            totalMismatches += expected.Total == actual.Total ? 0 : 1;
        }

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            completions = completions.Length,
            verdict_mismatches = verdictMismatches,
            total_mismatches = totalMismatches,
            verdicts = verdicts.OrderBy(v => v.Key, StringComparer.Ordinal).ToDictionary(),
        }));
        return verdictMismatches + totalMismatches == 0 ? 0 : 1;
    }
}
