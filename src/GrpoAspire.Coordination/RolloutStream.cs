using GrpoAspire.Contracts.V1;
using StackExchange.Redis;

namespace GrpoAspire.Coordination;

/// <summary>
/// The writing side of <c>grpo:{run}:rollouts</c>: each generation replica appends one scored group per job, then
/// acknowledges the job. Reading is <see cref="RolloutCollector"/>'s.
/// </summary>
public sealed class RolloutStream
{
    private readonly IDatabase _db;
    private readonly CoordinationOptions _options;

    public RolloutStream(IConnectionMultiplexer redis, RunKeys keys, CoordinationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(keys);
        _options = options ?? new CoordinationOptions();
        _options.Validate();
        _db = redis.GetDatabase();
        Keys = keys;
    }

    public RunKeys Keys { get; }

    /// <summary>Appends one group (XADD, field <c>m</c>, approximate MAXLEN <see cref="CoordinationOptions.RolloutsMaxLength"/>); returns its entry id.</summary>
    public async Task<string> AppendAsync(RolloutGroup group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (CheckGroup(group) is { } problem)
        {
            throw new ArgumentException($"cannot append the group: {problem}", nameof(group));
        }

        var id = await _db.StreamAddAsync(Keys.Rollouts, StreamMessages.Encode(group), messageId: null,
            maxLength: _options.RolloutsMaxLength, useApproximateMaxLength: true).WaitAsync(cancellationToken);
        return id.ToString();
    }

    /// <summary>
    /// The id of the stream's last entry ("0-0" when empty): a position from which a reader sees exactly the entries
    /// appended after this call. Take it before enqueueing the jobs whose groups you will collect.
    /// </summary>
    public async Task<string> EndPositionAsync(CancellationToken cancellationToken = default)
    {
        var last = await _db.StreamRangeAsync(Keys.Rollouts, "-", "+", count: 1, messageOrder: Order.Descending)
            .WaitAsync(cancellationToken);
        return last.Length == 0 ? "0-0" : last[0].Id.ToString();
    }

    internal static string? CheckGroup(RolloutGroup group) =>
        string.IsNullOrEmpty(group.JobId) ? "job_id is empty" : null;
}
