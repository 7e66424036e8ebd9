using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Tasks;

namespace GrpoAspire.Grpo.Training;

/// <summary>Where a recipe's tasks come from, decided without reading them (for <c>--dry-run</c>).</summary>
public enum DatasetKind
{
    /// <summary><c>dataset_id_or_path: generate</c>: the task's seeded generator, its fixed held-out set excluded.</summary>
    Generated,

    /// <summary>A local parquet or JSONL file, or a folder of parquet files (a Hub snapshot).</summary>
    LocalFile,

    /// <summary>A Hub id with no local copy given: a training run cannot start.</summary>
    HubIdWithoutFile,
}

/// <summary>The resolved source of training tasks.</summary>
public sealed record DatasetSource(DatasetKind Kind, string Description, string? Path);

/// <summary>
/// Training tasks for a recipe. Files are shuffled and split as the seed (seed 42, at most <c>max_tasks</c>,
/// 10% test) and the train part is used; the fixed held-out evaluation set is never trained on.
/// </summary>
public static class TrainingData
{
    public const string Generate = "generate";

    /// <summary>The source of the recipe's <c>dataset_id_or_path</c> (a <c>--dataset</c> file is already in it: <see cref="TrainingRun.Apply(Recipes.LoadedRecipe, TrainingRunOptions)"/>).</summary>
    public static DatasetSource Resolve(GrpoRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var id = recipe.DatasetIdOrPath;
        if (id == Generate)
        {
            return new DatasetSource(DatasetKind.Generated, $"generated: {recipe.MaxTasks} {recipe.Task} records from seed {recipe.Seed}", null);
        }

        if (File.Exists(id) || Directory.Exists(id))
        {
            return new DatasetSource(DatasetKind.LocalFile, id, id);
        }

        return new DatasetSource(
            DatasetKind.HubIdWithoutFile,
            $"'{id}' is not a local file, so it is a Hub id, and this machine cannot download it; pass --dataset FILE "
            + "(a local parquet or JSONL copy, e.g. the train parquet of Jiayi-Pan/Countdown-Tasks-3to4)",
            null);
    }

    /// <summary>
    /// The recipe's training records, at most <c>max_tasks</c>, never one of the held-out ones; for Countdown only those of
    /// at most <c>max_task_numbers</c> numbers when set.
    /// </summary>
    public static async Task<IReadOnlyList<TaskRecord>> LoadAsync(
        GrpoRecipe recipe, CancellationToken cancellationToken = default)
    {
        var records = await LoadAllAsync(recipe, cancellationToken);
        if (recipe.MaxTaskNumbers == 0)
        {
            return records;
        }

        var kept = records.Where(r => CountdownDefinition.ToTask(r).Nums.Count <= recipe.MaxTaskNumbers).ToArray();
        return kept.Length > 0 ? kept
            : throw new TaskDataException($"no training task has at most {recipe.MaxTaskNumbers} numbers (max_task_numbers)");
    }

    private static async Task<IReadOnlyList<TaskRecord>> LoadAllAsync(GrpoRecipe recipe, CancellationToken cancellationToken)
    {
        var source = Resolve(recipe);
        var definition = recipe.Definition();
        switch (source.Kind)
        {
            case DatasetKind.Generated:
                return definition.Generate((ulong)recipe.Seed, definition.HeldOut(recipe.EvalTasks)).Take(recipe.MaxTasks * 2)
                    .DistinctBy(definition.Key).Take(recipe.MaxTasks).ToArray();
            case DatasetKind.LocalFile:
                var records = await ReadAsync(source.Path!, definition, cancellationToken);
                if (records.Count == 0)
                {
                    throw new TaskDataException($"{source.Path} holds no records");
                }

                var split = TaskSplits.ShuffleAndSplit(records, 42, 0.1, recipe.MaxTasks);
                return split.Train.Count > 0 ? split.Train : split.Test;
            default:
                throw new TaskDataException($"dataset_id_or_path: {source.Description}");
        }
    }

    private static async Task<IReadOnlyList<TaskRecord>> ReadAsync(string path, ITaskDefinition definition, CancellationToken cancellationToken)
    {
        if (definition.Task != CountdownDefinition.Name)
        {
            return await TaskRecordFile.ReadJsonLinesAsync(path, definition, cancellationToken);
        }

        if (!Directory.Exists(path))
        {
            return (await TaskReaders.ReadFileAsync(path, cancellationToken)).Select(CountdownDefinition.ToRecord).ToArray();
        }

        // A Hub snapshot folder: every parquet file under it, in name order.
        var files = Directory.GetFiles(path, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new TaskDataException($"folder {path} holds no .parquet files");
        }

        var all = new List<TaskRecord>();
        foreach (var file in files)
        {
            all.AddRange((await TaskReaders.ReadParquetAsync(file, cancellationToken)).Select(CountdownDefinition.ToRecord));
        }

        return all;
    }
}
