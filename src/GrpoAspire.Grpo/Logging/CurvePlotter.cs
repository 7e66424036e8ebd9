using System.Text.Json;
using ScottPlot;

namespace GrpoAspire.Grpo.Logging;

/// <summary>
/// Draws the training curves of a run (<c>metrics.jsonl</c>) into one PNG with ScottPlot: rewards, success and
/// format rates, KL, loss, completion length and learning rate, against the step.
/// </summary>
public static class CurvePlotter
{
    public const string FileName = "curves.png";

    private static readonly (string Title, string[] Series)[] Panels =
    [
        ("reward", ["reward", "rewards/format", "rewards/equation", "rewards/equation_tinyzero"]),
        ("success and format rate", ["success_rate", "format_rate"]),
        ("KL to the reference", ["kl"]),
        ("loss", ["loss"]),
        ("completion length (tokens)", ["completion_length"]),
        ("learning rate", ["learning_rate"]),
    ];

    /// <summary>The panel that also shows the held-out evaluations of <c>eval.jsonl</c> beside <c>metrics.jsonl</c>.</summary>
    private const int HeldOutPanel = 1;

    /// <summary>Reads <paramref name="metricsJsonl"/> (and <c>eval.jsonl</c> beside it) and writes the PNG; returns the number of steps drawn.</summary>
    public static int Plot(string metricsJsonl, string pngPath, int width = 1500, int height = 900)
    {
        var rows = ReadRows(metricsJsonl);
        var multiplot = new Multiplot();
        multiplot.AddPlots(Panels.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 3);
        for (var i = 0; i < Panels.Length; i++)
        {
            var (title, series) = Panels[i];
            var plot = multiplot.GetPlot(i);
            plot.Title(title);
            plot.XLabel("step");
            foreach (var name in series)
            {
                var points = rows.Where(r => r.ContainsKey(name) && r.ContainsKey("step") && double.IsFinite(r[name]))
                    .Select(r => (X: r["step"], Y: r[name])).ToArray();
                if (points.Length == 0)
                {
                    continue;
                }

                var scatter = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
                scatter.LegendText = name;
            }

            if (i == HeldOutPanel)
            {
                AddHeldOut(plot, Path.GetDirectoryName(Path.GetFullPath(metricsJsonl))!);
            }

            if (series.Length > 1)
            {
                plot.ShowLegend();
            }
        }

        multiplot.SavePng(pngPath, width, height);
        return rows.Count;
    }

    private static void AddHeldOut(Plot plot, string runDirectory)
    {
        var evaluations = Countdown.Evaluation.HeldOutResults.Read(runDirectory);
        if (evaluations.Count == 0)
        {
            return;
        }

        var steps = evaluations.Select(e => (double)e.Step).ToArray();
        var greedy = plot.Add.Scatter(steps, evaluations.Select(e => e.GreedySuccessRate).ToArray());
        greedy.LegendText = $"held-out greedy ({evaluations[0].Tasks} tasks)";
        greedy.MarkerSize = 8;
        var sampled = evaluations.Where(e => e.SampledSuccessRate is not null).ToArray();
        if (sampled.Length > 0)
        {
            var line = plot.Add.Scatter(sampled.Select(e => (double)e.Step).ToArray(), sampled.Select(e => e.SampledSuccessRate!.Value).ToArray());
            line.LegendText = $"held-out sampled (T={sampled[0].Temperature:0.##})";
            line.MarkerSize = 8;
        }
    }

    private static List<Dictionary<string, double>> ReadRows(string path)
    {
        var rows = new List<Dictionary<string, double>>();
        if (!File.Exists(path))
        {
            return rows;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                var row = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line);
                rows.Add(row!.Where(p => p.Value.ValueKind == JsonValueKind.Number)
                    .ToDictionary(p => p.Key, p => p.Value.GetDouble()));
            }
            catch (JsonException)
            {
                // A line cut short by a killed run is skipped; the rest still draws.
            }
        }

        return rows;
    }
}
