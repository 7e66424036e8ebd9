using GrpoAspire.Countdown;
using GrpoAspire.Tasks;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// The training prompts in a fixed, seeded order with a cursor (saved in checkpoints, so resume continues
/// exactly where it stopped). Each pass over the tasks is reshuffled with seed + epoch.
/// </summary>
public sealed class TaskSource
{
    private readonly IReadOnlyList<TaskRecord> _tasks;
    private readonly ulong _seed;
    private List<TaskRecord> _order = [];
    private int _orderEpoch = -1;

    public TaskSource(IReadOnlyList<TaskRecord> tasks, ulong seed, long cursor = 0)
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

    public IReadOnlyList<TaskRecord> Next(int count)
    {
        var batch = new List<TaskRecord>(count);
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
}
