using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpoAspire.Countdown.Evaluation;

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

    /// <summary>e.g. <c>held-out success 12.4 % sampled (T=1, 500 tasks x 2), 13.0 % greedy, format 99.8 % (41 s)</c>.</summary>
    public string Describe()
    {
        var sampled = SampledSuccessRate is { } s
            ? $"{HeldOutResults.Percent(s)} sampled (T={Temperature.ToString("0.##", CultureInfo.InvariantCulture)}, {Tasks} tasks x {Samples}), "
            : $"{Tasks} tasks, ";
        var format = SampledFormatRate ?? GreedyFormatRate;
        return $"held-out success {sampled}{HeldOutResults.Percent(GreedySuccessRate)} greedy, format {HeldOutResults.Percent(format)} ({Seconds:F0} s)";
    }
}

/// <summary>
/// The run folder's <c>eval.jsonl</c>: written by the trainer during a run, read by the curves and by the AppHost's
/// summary. One format, kept here, in a library free of the model runtime so that both sides can use it.
/// </summary>
public static class HeldOutResults
{
    public const string FileName = "eval.jsonl";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Appends <paramref name="result"/> as one line of <c>eval.jsonl</c> in <paramref name="runDirectory"/>.</summary>
    public static void Append(string runDirectory, HeldOutResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        File.AppendAllText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(result, Json) + "\n");
    }

    /// <summary>The evaluations recorded in a run folder, in file order; a missing file gives none, unreadable lines are skipped.</summary>
    public static IReadOnlyList<HeldOutResult> Read(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        return File.Exists(path) ? Parse(File.ReadLines(path)) : [];
    }

    /// <summary>The evaluations among lines of <c>eval.jsonl</c>, in order; blank and unreadable lines are skipped.</summary>
    public static IReadOnlyList<HeldOutResult> Parse(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var results = new List<HeldOutResult>();
        foreach (var line in lines)
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

    /// <summary>A rate as a percentage with one decimal: <c>12.3 %</c>.</summary>
    public static string Percent(double rate) => (rate * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}
