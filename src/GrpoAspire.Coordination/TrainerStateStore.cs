using System.Globalization;
using StackExchange.Redis;

namespace GrpoAspire.Coordination;

/// <summary>
/// The trainer's progress in the hash <c>grpo:{run}:trainer</c> (step, policy_version, dataset_cursor, status,
/// updated_at), readable with <c>HGETALL</c> by a person and by the dashboard.
/// </summary>
/// <remarks>
/// A status board, not the checkpoint: exact resume reads the checkpoint folder, which holds the model, the
/// optimizer and the RNG with the same step and cursor (nanoGPT's rule: one file set, written together).
/// </remarks>
public sealed class TrainerStateStore
{
    private static readonly RedisValue[] Fields = ["step", "policy_version", "dataset_cursor", "status", "updated_at"];

    private readonly IDatabase _db;

    public TrainerStateStore(IConnectionMultiplexer redis, RunKeys keys)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(keys);
        _db = redis.GetDatabase();
        Keys = keys;
    }

    public RunKeys Keys { get; }

    /// <summary>Writes every field in one HSET, so a reader never sees a step with another step's cursor.</summary>
    public Task SaveAsync(TrainerProgress progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentOutOfRangeException.ThrowIfNegative(progress.Step);
        ArgumentOutOfRangeException.ThrowIfNegative(progress.PolicyVersion);
        ArgumentOutOfRangeException.ThrowIfNegative(progress.DatasetCursor);
        HashEntry[] entries =
        [
            new(Fields[0], progress.Step),
            new(Fields[1], progress.PolicyVersion),
            new(Fields[2], progress.DatasetCursor),
            new(Fields[3], StatusName(progress.Status)),
            new(Fields[4], progress.UpdatedAt.ToString("O", CultureInfo.InvariantCulture)),
        ];
        return _db.HashSetAsync(Keys.TrainerState, entries).WaitAsync(cancellationToken);
    }

    /// <summary>The saved progress, or null when the run has none. Throws <see cref="InvalidDataException"/> naming the field when the hash holds something else.</summary>
    public async Task<TrainerProgress?> LoadAsync(CancellationToken cancellationToken = default)
    {
        var values = await _db.HashGetAsync(Keys.TrainerState, Fields).WaitAsync(cancellationToken);
        if (values.All(v => v.IsNull))
        {
            return null;
        }

        return new TrainerProgress(
            Step: Integer(values, 0) is <= int.MaxValue and var step ? (int)step : throw Invalid(0, values[0]),
            PolicyVersion: Integer(values, 1),
            DatasetCursor: Integer(values, 2),
            Status: ParseStatus(Text(values, 3)),
            UpdatedAt: DateTimeOffset.TryParse(Text(values, 4), CultureInfo.InvariantCulture,
                DateTimeStyles.RoundtripKind, out var at)
                ? at
                : throw Invalid(4, values[4]));
    }

    private static string StatusName(TrainerStatus status) => status switch
    {
        TrainerStatus.Starting or TrainerStatus.Running or TrainerStatus.Completed or TrainerStatus.Failed
            or TrainerStatus.Stopped => status.ToString().ToLowerInvariant(),
        _ => throw new ArgumentOutOfRangeException(nameof(status), status,
            $"valid statuses: {string.Join(", ", Enum.GetNames<TrainerStatus>())}"),
    };

    /// <summary>Exact names only (any case): Enum.TryParse would also take "1" or "running, failed".</summary>
    private TrainerStatus ParseStatus(string text) =>
        Enum.GetValues<TrainerStatus>().Where(s => s.ToString().Equals(text, StringComparison.OrdinalIgnoreCase))
            .Select(s => (TrainerStatus?)s).FirstOrDefault()
        ?? throw new InvalidDataException(
            $"{Keys.TrainerState} field status is '{text}', not one of "
            + string.Join(", ", Enum.GetNames<TrainerStatus>().Select(n => n.ToLowerInvariant())));

    private long Integer(RedisValue[] values, int field) =>
        long.TryParse(Text(values, field), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
        && n >= 0
            ? n
            : throw Invalid(field, values[field]);

    private string Text(RedisValue[] values, int field) =>
        values[field].IsNullOrEmpty ? throw Invalid(field, values[field]) : values[field].ToString();

    private InvalidDataException Invalid(int field, RedisValue value) =>
        new($"{Keys.TrainerState} field {Fields[field]} is {(value.IsNull ? "missing" : $"'{value}'")}");
}
