using System.Globalization;
using System.Text.Json;

namespace GrpoAspire.AppHost;

/// <summary>
/// What the AppHost prints when training is over: the held-out success before and after (the run folder's
/// <c>eval.jsonl</c>, written by the trainer when the recipe evaluates), the time taken and what the run folder holds.
/// </summary>
public static class RunSummary
{
    /// <summary>One held-out evaluation as <c>eval.jsonl</c> records it.</summary>
    public sealed record Evaluation(int Step, int Tasks, double Greedy, double? Sampled, double? Format, double Temperature);

    public static void Write(TextWriter console, string runFolder, string outcome, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(console);
        var evaluations = ReadEvaluations(Path.Combine(runFolder, "eval.jsonl"));
        if (evaluations.Count > 0)
        {
            console.WriteLine($"[apphost] {Compare(evaluations[0], evaluations[^1])}");
        }

        console.WriteLine($"[apphost] training {outcome} after {elapsed.TotalMinutes.ToString("0.0", CultureInfo.InvariantCulture)} min; run folder: {runFolder}");
        var checkpoints = Directory.Exists(runFolder)
            ? Directory.GetDirectories(runFolder, "checkpoint-*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()
            : [];
        foreach (var (name, what) in new[]
        {
            ("curves.png", "training curves, with the held-out evaluations"),
            ("eval.jsonl", "held-out evaluations (step 0 is the starting model)"),
            ("metrics.jsonl", "one line of metrics per step"),
            ("completion_samples", "completions as sampled, early and late"),
            ("tensorboard", "TensorBoard events"),
        })
        {
            if (File.Exists(Path.Combine(runFolder, name)) || Directory.Exists(Path.Combine(runFolder, name)))
            {
                console.WriteLine($"[apphost]   {name,-20} {what}");
            }
        }

        if (checkpoints.Length > 0)
        {
            console.WriteLine($"[apphost]   {checkpoints[^1],-20} the trained model, a Hugging Face folder ({checkpoints.Length} checkpoint folder(s) in all)");
        }
    }

    /// <summary>e.g. <c>held-out success (500 tasks, sampled at T=1): 10.6 % before, 27.0 % after step 60 (+16.4 points); greedy 13.0 % -> 30.2 %</c>.</summary>
    public static string Compare(Evaluation before, Evaluation after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.Step == after.Step)
        {
            return $"held-out success at step {after.Step} ({after.Tasks} tasks): {Percent(after.Sampled ?? after.Greedy)}";
        }

        var (b, a, how) = before.Sampled is { } bs && after.Sampled is { } @as
            ? (bs, @as, $"sampled at T={after.Temperature.ToString("0.##", CultureInfo.InvariantCulture)}")
            : (before.Greedy, after.Greedy, "greedy");
        var points = ((a - b) * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);
        var text = $"held-out success ({after.Tasks} tasks, {how}): {Percent(b)} at step {before.Step}, {Percent(a)} after step {after.Step} ({points} points)";
        if (before.Sampled is not null && after.Sampled is not null)
        {
            text += $"; greedy {Percent(before.Greedy)} -> {Percent(after.Greedy)}";
        }

        if (after.Format is { } format)
        {
            text += $"; format {Percent(format)}";
        }

        return text;
    }

    /// <summary>The evaluations of an <c>eval.jsonl</c>, in order; a missing file or an unreadable line gives none for it.</summary>
    public static IReadOnlyList<Evaluation> ReadEvaluations(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var results = new List<Evaluation>();
        foreach (var line in File.ReadLines(path))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                double? Optional(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
                results.Add(new Evaluation(
                    root.GetProperty("step").GetInt32(), root.GetProperty("tasks").GetInt32(), root.GetProperty("greedy_success_rate").GetDouble(),
                    Optional("sampled_success_rate"), Optional("sampled_format_rate") ?? Optional("greedy_format_rate"), Optional("temperature") ?? 1.0));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // A line cut by a killed trainer: the others still count.
            }
        }

        return results;
    }

    private static string Percent(double rate) => (rate * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}
