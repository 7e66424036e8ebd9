using System.Text.Json;
using GrpoAspire.Countdown.Evaluation;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Logging;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Every output of a training run, in one folder: the resolved recipe (<c>recipe.json</c>), <c>metrics.jsonl</c>,
/// TensorBoard events under <c>tensorboard/</c>, <c>completion_samples/</c>, <c>curves.png</c>, held-out evaluations
/// (<c>eval.jsonl</c>) and <c>checkpoint-N/</c> folders.
/// </summary>
public sealed class RunFolder : IDisposable
{
    public const string TensorBoardFolder = "tensorboard";
    public const string ResolvedRecipeFileName = "recipe.json";

    private readonly MetricsJsonlWriter _metrics;
    private readonly TensorBoardLogger _tensorBoard;
    private readonly CompletionSampleWriter _samples;

    /// <summary>
    /// Opens <paramref name="path"/> for a run that starts after <paramref name="startStep"/>: lines of later steps left
    /// by an earlier run (which the resumed run rewrites) are dropped from metrics.jsonl and eval.jsonl.
    /// </summary>
    public RunFolder(string path, string describedRecipe, long seed, int startStep)
    {
        Directory.CreateDirectory(path);
        Location = path;
        File.WriteAllText(Path.Combine(path, ResolvedRecipeFileName), describedRecipe);
        KeepLinesUpTo(MetricsPath, startStep);
        KeepLinesUpTo(Path.Combine(path, HeldOutResults.FileName), startStep);
        _metrics = new MetricsJsonlWriter(MetricsPath);
        _tensorBoard = new TensorBoardLogger(Path.Combine(path, TensorBoardFolder));
        _samples = new CompletionSampleWriter(path, (ulong)seed + (ulong)startStep);
    }

    /// <summary>The folder.</summary>
    public string Location { get; }

    private string MetricsPath => Path.Combine(Location, MetricsJsonlWriter.FileName);

    /// <summary>A step's metrics (metrics.jsonl and TensorBoard) and a share of its completions.</summary>
    public void Record(StepResult result, IReadOnlyList<PromptJob> prompts)
    {
        _metrics.Write(result.Metrics);
        _tensorBoard.Write(result.Metrics);
        _samples.Write(result.Metrics.Step, result.Completions, prompts.ToDictionary(p => p.Index));
    }

    public void RecordEvaluation(HeldOutResult result) => HeldOutResults.Append(Location, result);

    /// <summary>Draws <c>curves.png</c> from metrics.jsonl and eval.jsonl as they are now.</summary>
    public void PlotCurves() => CurvePlotter.Plot(MetricsPath, Path.Combine(Location, CurvePlotter.FileName));

    /// <summary>
    /// Writes <c>checkpoint-{step}</c> through <paramref name="write"/>, then its manifest (last), then publishes it by
    /// renaming <c>.partial</c>: it appears complete or not at all. A save that fails for storage (a full disk) throws a
    /// <see cref="StorageException"/> naming the file, removes its partial folder (freeing what it took) and leaves the
    /// published checkpoints as they were.
    /// </summary>
    public string WriteCheckpoint(int step, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var folder = CheckpointFolders.For(Location, step);
        var partial = folder + ".partial";
        try
        {
            if (Directory.Exists(partial))
            {
                Directory.Delete(partial, recursive: true);
            }

            write(partial);
            CheckpointManifest.Write(partial);
        }
        catch (IOException e) when (StorageException.Writing(e, partial) is { } storage)
        {
            TryDelete(partial);
            throw storage;
        }

        // A checkpoint saved again at its step (a "checkpoint now" on a resumed run) replaces the old one only once the
        // new one is complete.
        var replaced = folder + ".replaced";
        if (Directory.Exists(folder))
        {
            TryDelete(replaced);
            Directory.Move(folder, replaced);
        }

        Directory.Move(partial, folder);
        TryDelete(replaced);
        return folder;
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover .partial or .replaced folder is never taken for a checkpoint.
        }
    }

    private static void KeepLinesUpTo(string path, int step)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var kept = File.ReadLines(path).Where(line =>
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                return document.RootElement.TryGetProperty("step", out var s) && s.GetDouble() <= step;
            }
            catch (JsonException)
            {
                return false;
            }
        }).ToArray();
        File.WriteAllLines(path, kept);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _samples.Dispose();
    }
}
