using System.Text.Json;
using System.Text.Json.Serialization;
using Parquet.Serialization;

namespace GrpoAspire.Countdown.Datasets;

/// <summary>A dataset file that could not be read, with the place of the problem.</summary>
public sealed class TaskDataException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Readers of Countdown task files: the Hugging Face parquet of Jiayi-Pan/Countdown-Tasks-3to4
/// (columns <c>target</c> int64, <c>nums</c> list&lt;int64&gt;) and JSONL lines <c>{"nums": [..], "target": N}</c>.
/// </summary>
public static class TaskReaders
{
    /// <summary>Reads by extension: <c>.parquet</c>, or <c>.jsonl</c> / <c>.json</c> (one object per line).</summary>
    public static async Task<IReadOnlyList<CountdownTask>> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
        {
            throw new TaskDataException($"dataset file '{path}' does not exist");
        }

        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".parquet" => await ReadParquetAsync(path, cancellationToken).ConfigureAwait(false),
            ".jsonl" or ".json" => ReadJsonl(path),
            var other => throw new TaskDataException(
                $"dataset file '{path}' has extension '{other}'; expected .parquet or .jsonl"),
        };
    }

    public static async Task<IReadOnlyList<CountdownTask>> ReadParquetAsync(string path, CancellationToken cancellationToken = default)
    {
        IList<ParquetRow> rows;
        try
        {
            await using var stream = File.OpenRead(path);
            rows = (await ParquetSerializer.DeserializeAsync<ParquetRow>(stream, cancellationToken: cancellationToken)
                .ConfigureAwait(false)).Data;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new TaskDataException(
                $"'{path}' is not a Countdown parquet file (columns target int64, nums list<int64>): {e.Message}", e);
        }

        var tasks = new List<CountdownTask>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (row.Target is not { } target || row.Nums is null || row.Nums.Any(n => n is null))
            {
                throw new TaskDataException($"{path}: row {i} has a null target or number");
            }

            tasks.Add(Create(row.Nums.Select(n => n!.Value).ToArray(), target, $"{path}: row {i}"));
        }

        return tasks;
    }

    public static IReadOnlyList<CountdownTask> ReadJsonl(string path)
    {
        using var reader = new StreamReader(path);
        return ReadJsonl(reader, path);
    }

    public static IReadOnlyList<CountdownTask> ReadJsonl(TextReader reader, string sourceName)
    {
        var tasks = new List<CountdownTask>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            tasks.Add(ParseJsonLine(line, $"{sourceName}:{lineNumber}"));
        }

        return tasks;
    }

    /// <summary>Parses <c>{"nums": [..], "target": N}</c> (other fields are ignored).</summary>
    public static CountdownTask ParseJsonLine(string line, string where)
    {
        JsonRow? row;
        try
        {
            row = JsonSerializer.Deserialize<JsonRow>(line, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new TaskDataException($"{where}: not a JSON task object ({e.Message})", e);
        }

        if (row?.Nums is null || row.Target is null)
        {
            throw new TaskDataException($"{where}: a task needs \"nums\" (array of integers) and \"target\" (integer)");
        }

        return Create(row.Nums, row.Target.Value, where);
    }

    private static CountdownTask Create(long[] nums, long target, string where)
    {
        try
        {
            return new CountdownTask(nums, target);
        }
        catch (ArgumentException e)
        {
            throw new TaskDataException($"{where}: {e.Message}", e);
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        NumberHandling = JsonNumberHandling.Strict,
    };

    private sealed class JsonRow
    {
        [JsonPropertyName("nums")]
        public long[]? Nums { get; init; }

        [JsonPropertyName("target")]
        public long? Target { get; init; }
    }

    /// <summary>One row of the Hugging Face parquet (pyarrow writes both columns as nullable).</summary>
    internal sealed class ParquetRow
    {
        [JsonPropertyName("target")]
        public long? Target { get; set; }

        [JsonPropertyName("nums")]
        public List<long?>? Nums { get; set; }
    }
}
