using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Datasets;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// The training prompts in a fixed, seeded order with a cursor (saved in checkpoints, so resume continues
/// exactly where it stopped). Each pass over the tasks is reshuffled with seed + epoch.
/// </summary>
public sealed class TaskSource
{
    private readonly IReadOnlyList<CountdownTask> _tasks;
    private readonly ulong _seed;
    private List<CountdownTask> _order = [];
    private int _orderEpoch = -1;

    public TaskSource(IReadOnlyList<CountdownTask> tasks, ulong seed, long cursor = 0)
    {
        if (tasks.Count == 0)
        {
            throw new ArgumentException("the training set is empty", nameof(tasks));
        }

        _tasks = tasks;
        _seed = seed;
        Cursor = cursor;
    }

    /// <summary>How many tasks were handed out so far, over all epochs.</summary>
    public long Cursor { get; private set; }

    public int Count => _tasks.Count;

    public IReadOnlyList<CountdownTask> Next(int count)
    {
        var batch = new List<CountdownTask>(count);
        for (var i = 0; i < count; i++)
        {
            var epoch = (int)(Cursor / _tasks.Count);
            if (epoch != _orderEpoch)
            {
                _order = _tasks.ToList();
                new SeededRandom(_seed + (ulong)epoch).Shuffle(_order);
                _orderEpoch = epoch;
            }

            batch.Add(_order[(int)(Cursor % _tasks.Count)]);
            Cursor++;
        }

        return batch;
    }

    /// <summary>
    /// Training tasks for a recipe: a local file (parquet or JSONL, split 90/10 as the seed, the 90% used), or
    /// "generate" for seeded solvable tasks. Always excludes the fixed held-out evaluation set.
    /// </summary>
    public static async Task<IReadOnlyList<CountdownTask>> LoadTrainingTasksAsync(
        string datasetIdOrPath, string? localFile, int maxTasks, ulong seed, CancellationToken cancellationToken = default)
    {
        var heldOut = TaskSplits.HeldOut();
        IEnumerable<CountdownTask> tasks;
        if (datasetIdOrPath == "generate" && localFile is null)
        {
            tasks = new TaskGenerator(seed).Take(maxTasks * 2);
        }
        else
        {
            var path = localFile ?? datasetIdOrPath;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException(
                    $"dataset '{datasetIdOrPath}' is not a local file and this machine cannot download from a hub; "
                    + "pass --dataset FILE (parquet or JSONL with nums and target), or use dataset_id_or_path: generate", path);
            }

            var all = await TaskReaders.ReadFileAsync(path, cancellationToken).ConfigureAwait(false);
            tasks = TaskSplits.ShuffleAndSplit(all, seed, 0.1, maxTasks).Train;
        }

        var result = TaskSplits.ExcludingHeldOut(tasks, heldOut).Take(maxTasks).ToList();
        if (result.Count == 0)
        {
            throw new InvalidOperationException($"no training tasks left from '{datasetIdOrPath}' after removing the held-out set");
        }

        return result;
    }
}
