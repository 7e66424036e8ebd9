using System.Text;

namespace GrpoAspire.Tasks;

/// <summary>A dataset of records as JSONL: one JSON object per line, each checked by its task; blank lines skipped.</summary>
public static class TaskRecordFile
{
    /// <summary>Most bytes in one line (a record is at most <see cref="TaskRecord.MaxJsonBytes"/>).</summary>
    public const int MaxLineBytes = TaskRecord.MaxJsonBytes;

    public static async Task<IReadOnlyList<TaskRecord>> ReadJsonLinesAsync(string path, ITaskDefinition task, CancellationToken cancellationToken = default)
    {
        if (!path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            throw new TaskRecordException($"{path}: {task.Task} records are read from JSONL files (one JSON object per line)");
        }

        var records = new List<TaskRecord>();
        using var reader = new StreamReader(path, Encoding.UTF8);
        var number = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                var record = TaskRecord.Parse(task.Task, line);
                task.Validate(record);
                records.Add(record);
            }
            catch (ArgumentException e)
            {
                throw new TaskRecordException($"{path}:{number}: {e.Reason()}");
            }
        }

        return records;
    }

    /// <summary>Writes records as JSONL, one per line.</summary>
    public static void WriteJsonLines(string path, IEnumerable<TaskRecord> records)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        foreach (var record in records)
        {
            writer.WriteLine(record.Json);
        }
    }
}
