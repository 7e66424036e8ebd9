using GrpoAspire.Countdown.Evaluation;
using GrpoAspire.Grpo.Logging;

namespace GrpoAspire.Trainer.RunPage;

/// <summary>
/// What the run page shows from the run folder, read with bounds on every request: the last held-out evaluations
/// (<c>eval.jsonl</c>), the latest completion samples (successes, and the random share of all), and whether the
/// curves picture exists yet.
/// </summary>
internal sealed record RunFolderView(
    IReadOnlyList<HeldOutResult> Evaluations,
    IReadOnlyList<CompletionSample> Successes,
    IReadOnlyList<CompletionSample> Samples,
    bool HasCurves)
{
    public const int MaxEvaluations = 50;
    public const int MaxEvaluationBytes = 64 * 1024;
    public const int SamplesShown = 5;

    public static readonly RunFolderView Empty = new([], [], [], false);

    /// <summary>The view of <paramref name="runDirectory"/>; empty while the trainer has not read its recipe yet.</summary>
    public static RunFolderView Read(string? runDirectory)
    {
        if (string.IsNullOrEmpty(runDirectory))
        {
            return Empty;
        }

        return new RunFolderView(
            ReadEvaluations(Path.Combine(runDirectory, HeldOutResults.FileName)),
            CompletionSamplesFile.Successes(runDirectory).GetLatest(SamplesShown),
            CompletionSamplesFile.Sampled(runDirectory).GetLatest(SamplesShown),
            File.Exists(CurvesPath(runDirectory)));
    }

    public static string CurvesPath(string runDirectory) => Path.Combine(runDirectory, CurvePlotter.FileName);

    /// <summary>The last <see cref="MaxEvaluations"/> readable lines of the file's last <see cref="MaxEvaluationBytes"/>, in file order.</summary>
    private static IReadOnlyList<HeldOutResult> ReadEvaluations(string path)
    {
        var results = HeldOutResults.Parse(FileTail.Lines(FileTail.Read(path, MaxEvaluationBytes, out var cut), cut));
        return results.Count > MaxEvaluations ? results.Skip(results.Count - MaxEvaluations).ToArray() : results;
    }
}
