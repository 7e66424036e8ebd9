using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpoAspire.Grpo.Checkpoints;

/// <summary>
/// What a checkpoint holds besides the model and optimizer (nanoGPT's rule: everything needed to resume exactly).
/// Sampling seeds derive from the recipe seed and the step, so the step is the random state.
/// </summary>
public sealed record TrainerState
{
    [JsonPropertyName("global_step")] public int GlobalStep { get; init; }
    [JsonPropertyName("max_steps")] public int MaxSteps { get; init; }
    [JsonPropertyName("dataset_cursor")] public long DatasetCursor { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; }
    [JsonPropertyName("recipe_hash")] public string RecipeHash { get; init; } = string.Empty;
    [JsonPropertyName("best_success_rate")] public double BestSuccessRate { get; init; }
    [JsonPropertyName("saved_at")] public DateTimeOffset SavedAt { get; init; }

    public const string FileName = "trainer_state.json";

    public void Save(string folder) =>
        File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));

    public static TrainerState Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{folder}' is not a checkpoint: it has no {FileName}", path);
        }

        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path))
                ?? throw new CheckpointCorruptException(folder, FileName, "null instead of a trainer state");
        }
        catch (JsonException e)
        {
            throw new CheckpointCorruptException(folder, FileName, $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})", e);
        }
    }
}

/// <summary>Checkpoint folders of a run: <c>checkpoint-{step}</c>, each a Hugging Face model folder plus state.</summary>
public static class CheckpointFolders
{
    public const string Prefix = "checkpoint-";
    public const string OptimizerFileName = "optimizer.bin";

    public static string For(string runDirectory, int step) => Path.Combine(runDirectory, $"{Prefix}{step}");

    /// <summary>The newest complete checkpoint of a run, or null.</summary>
    public static string? Latest(string runDirectory) => All(runDirectory).FirstOrDefault();

    /// <summary>
    /// The complete checkpoints of a run (published <c>checkpoint-N</c> folders with a trainer state; never a
    /// <c>.partial</c> one), newest first.
    /// </summary>
    public static IReadOnlyList<string> All(string runDirectory) =>
        !Directory.Exists(runDirectory)
            ? []
            : Directory.GetDirectories(runDirectory, Prefix + "*")
                .Where(d => File.Exists(Path.Combine(d, TrainerState.FileName)))
                .Select(d => (Dir: d, Ok: int.TryParse(Path.GetFileName(d)[Prefix.Length..], out var s), Step: s))
                .Where(x => x.Ok)
                .OrderByDescending(x => x.Step)
                .Select(x => x.Dir)
                .ToArray();
}
