using System.Globalization;
using GrpoAspire.Countdown.Evaluation;

namespace GrpoAspire.AppHost;

/// <summary>
/// What the AppHost prints when training is over: the held-out success before and after (the run folder's
/// <c>eval.jsonl</c>, written by the trainer when the recipe evaluates), the time taken and what the run folder holds.
/// </summary>
public static class RunSummary
{
    public static void Write(TextWriter console, string runFolder, string outcome, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(console);
        var evaluations = HeldOutResults.Read(runFolder);
        if (evaluations.Count > 0)
        {
            console.WriteLine($"[apphost] {Compare(evaluations[0], evaluations[^1])}");
        }

        console.WriteLine($"[apphost] training {outcome} after {elapsed.TotalMinutes.ToString("0.0", CultureInfo.InvariantCulture)} min; run folder: {runFolder}");
        var checkpoints = Directory.Exists(runFolder)
            // By step, not as text: checkpoint-40 comes after checkpoint-5.
            ? Directory.GetDirectories(runFolder, "checkpoint-*").Select(Path.GetFileName)
                .Select(name => (Name: name!, Step: int.TryParse(name!["checkpoint-".Length..], out var step) ? step : -1))
                .Where(c => c.Step >= 0).OrderBy(c => c.Step).Select(c => c.Name).ToArray()
            : [];
        foreach (var (name, what) in new[]
        {
            ("curves.png", "training curves, with the held-out evaluations"),
            (HeldOutResults.FileName, "held-out evaluations (step 0 is the starting model)"),
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
    public static string Compare(HeldOutResult before, HeldOutResult after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.Step == after.Step)
        {
            return $"held-out success at step {after.Step} ({after.Tasks} tasks): {HeldOutResults.Percent(after.SampledSuccessRate ?? after.GreedySuccessRate)}";
        }

        var (b, a, how) = before.SampledSuccessRate is { } bs && after.SampledSuccessRate is { } @as
            ? (bs, @as, $"sampled at T={after.Temperature.ToString("0.##", CultureInfo.InvariantCulture)}")
            : (before.GreedySuccessRate, after.GreedySuccessRate, "greedy");
        var points = ((a - b) * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);
        var text = $"held-out success ({after.Tasks} tasks, {how}): {HeldOutResults.Percent(b)} at step {before.Step}, {HeldOutResults.Percent(a)} after step {after.Step} ({points} points)";
        if (before.SampledSuccessRate is not null && after.SampledSuccessRate is not null)
        {
            text += $"; greedy {HeldOutResults.Percent(before.GreedySuccessRate)} -> {HeldOutResults.Percent(after.GreedySuccessRate)}";
        }

        text += $"; format {HeldOutResults.Percent(after.SampledFormatRate ?? after.GreedyFormatRate)}";

        return text;
    }
}
