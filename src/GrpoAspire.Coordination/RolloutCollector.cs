using System.Diagnostics;
using GrpoAspire.Contracts.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace GrpoAspire.Coordination;

/// <summary>
/// The trainer's reader of <c>grpo:{run}:rollouts</c>: gathers the groups of one step, one per job.
/// </summary>
/// <remarks>
/// It reads with plain XREAD from a remembered position, never from "$", so a group appended between two polls,
/// or before <see cref="CollectAsync"/> was called for its step, is still seen. Jobs are delivered at least once
/// (see <see cref="RolloutJobQueue"/>), so the first group of a job wins and later ones are dropped; groups of
/// earlier steps (late duplicates) are dropped; groups of later steps, which a trainer that enqueues ahead may
/// receive early, are kept (up to <see cref="CoordinationOptions.MaxBufferedGroups"/>) for their own step.
/// One collector serves one trainer: calls must not overlap.
/// </remarks>
public sealed class RolloutCollector
{
    private const int MaxIdsInMessage = 20;

    private readonly IDatabase _db;
    private readonly RedisKey _key;
    private readonly CoordinationOptions _options;
    private readonly ILogger _logger;
    private readonly Action<MalformedEntry>? _onMalformed;

    // Groups of later steps read while collecting an earlier one, keyed by step, then job id (first wins),
    // with their entry ids for the logs.
    private readonly SortedDictionary<int, Dictionary<string, (RolloutGroup Group, string EntryId)>> _ahead = [];
    private int _aheadCount;

    /// <param name="startPosition">
    /// A concrete stream id to read after: "0-0" for the whole stream, or <see cref="RolloutStream.EndPositionAsync"/>
    /// taken before the first jobs were enqueued. "$" is refused: it means "from whenever XREAD runs", which loses the
    /// groups that arrive before the first read.
    /// </param>
    public RolloutCollector(IConnectionMultiplexer redis, RunKeys keys, string startPosition,
        CoordinationOptions? options = null, ILogger<RolloutCollector>? logger = null,
        Action<MalformedEntry>? onMalformed = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(startPosition);
        if (!StreamMessages.IsConcreteId(startPosition))
        {
            throw new ArgumentException(
                $"start position '{startPosition}' is not a stream id such as \"0-0\" or \"1700000000000-0\"; "
                + "for \"$\" use RolloutCollector.StartAtEndAsync before enqueueing jobs", nameof(startPosition));
        }

        _options = options ?? new CoordinationOptions();
        _options.Validate();
        _db = redis.GetDatabase();
        Keys = keys;
        _key = keys.Rollouts;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _onMalformed = onMalformed;
        Position = startPosition;
    }

    public RunKeys Keys { get; }

    /// <summary>Id of the last entry read; the next read starts after it.</summary>
    public string Position { get; private set; }

    /// <summary>A collector that sees only groups appended from now on (the "$" of XREAD, resolved to an id now).</summary>
    public static async Task<RolloutCollector> StartAtEndAsync(IConnectionMultiplexer redis, RunKeys keys,
        CoordinationOptions? options = null, ILogger<RolloutCollector>? logger = null,
        Action<MalformedEntry>? onMalformed = null, CancellationToken cancellationToken = default)
    {
        var end = await new RolloutStream(redis, keys, options).EndPositionAsync(cancellationToken);
        return new RolloutCollector(redis, keys, end, options, logger, onMalformed);
    }

    /// <summary>
    /// Reads until a group has arrived for every id in <paramref name="expectedJobIds"/> of <paramref name="step"/>,
    /// and returns them ordered by prompt index (then job id), whatever order the replicas finished in.
    /// </summary>
    /// <exception cref="TimeoutException">Not all arrived within <paramref name="timeout"/>; names the missing job ids.</exception>
    public async Task<IReadOnlyList<RolloutGroup>> CollectAsync(int step, IReadOnlySet<string> expectedJobIds,
        TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expectedJobIds);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var clock = Stopwatch.StartNew();
        var found = TakeAhead(step, expectedJobIds);
        while (found.Count < expectedJobIds.Count)
        {
            var entries = await _db.StreamReadAsync(_key, Position, _options.MaxEntriesPerRead)
                .WaitAsync(cancellationToken);
            foreach (var entry in entries)
            {
                Position = entry.Id.ToString();
                Accept(step, expectedJobIds, entry, found);
            }

            if (found.Count == expectedJobIds.Count || entries.Length == _options.MaxEntriesPerRead)
            {
                continue;
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException(MissingMessage(step, expectedJobIds, found, timeout));
            }

            await Task.Delay(left < _options.CollectPollInterval ? left : _options.CollectPollInterval,
                cancellationToken);
        }

        return [.. found.Values.OrderBy(g => g.PromptIndex).ThenBy(g => g.JobId, StringComparer.Ordinal)];
    }

    private void Accept(int step, IReadOnlySet<string> expected, StreamEntry entry,
        Dictionary<string, RolloutGroup> found)
    {
        var id = entry.Id.ToString();
        if (!StreamMessages.TryDecode(entry, RolloutGroup.Parser, RolloutStream.CheckGroup, out var group,
                out var reason))
        {
            var malformed = new MalformedEntry(_key.ToString(), id, reason);
            CoordinationLog.MalformedEntry(_logger, malformed.Stream, malformed.EntryId, malformed.Reason);
            _onMalformed?.Invoke(malformed);
            return;
        }

        if (group.Step > step)
        {
            KeepAhead(step, group, id);
        }
        else if (group.Step < step)
        {
            CoordinationLog.OtherStepGroup(_logger, step, group.Step, group.JobId, id);
        }
        else if (!expected.Contains(group.JobId))
        {
            CoordinationLog.UnexpectedGroup(_logger, step, group.JobId, id);
        }
        else if (!found.TryAdd(group.JobId, group))
        {
            CoordinationLog.DuplicateGroup(_logger, step, group.JobId, id, group.Replica);
        }
    }

    private void KeepAhead(int step, RolloutGroup group, string entryId)
    {
        if (!_ahead.TryGetValue(group.Step, out var groups))
        {
            groups = [];
            _ahead[group.Step] = groups;
        }

        if (groups.ContainsKey(group.JobId))
        {
            return;
        }

        if (_aheadCount >= _options.MaxBufferedGroups)
        {
            CoordinationLog.BufferFull(_logger, step, group.Step, group.JobId, _options.MaxBufferedGroups);
            return;
        }

        groups.Add(group.JobId, (group, entryId));
        _aheadCount++;
    }

    /// <summary>Takes the kept groups of <paramref name="step"/> and forgets those of earlier steps.</summary>
    private Dictionary<string, RolloutGroup> TakeAhead(int step, IReadOnlySet<string> expected)
    {
        var found = new Dictionary<string, RolloutGroup>(StringComparer.Ordinal);
        foreach (var kept in _ahead.Keys.Where(s => s <= step).ToList())
        {
            var groups = _ahead[kept];
            _ahead.Remove(kept);
            _aheadCount -= groups.Count;
            foreach (var (group, entryId) in groups.Values)
            {
                if (kept < step)
                {
                    CoordinationLog.OtherStepGroup(_logger, step, kept, group.JobId, entryId);
                }
                else if (expected.Contains(group.JobId))
                {
                    found.Add(group.JobId, group);
                }
                else
                {
                    CoordinationLog.UnexpectedGroup(_logger, step, group.JobId, entryId);
                }
            }
        }

        return found;
    }

    private static string MissingMessage(int step, IReadOnlySet<string> expected,
        Dictionary<string, RolloutGroup> found, TimeSpan timeout)
    {
        var missing = expected.Where(id => !found.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
        var named = string.Join(", ", missing.Take(MaxIdsInMessage));
        var more = missing.Count > MaxIdsInMessage ? $" and {missing.Count - MaxIdsInMessage} more" : "";
        return $"step {step}: {missing.Count} of {expected.Count} rollout groups did not arrive within "
            + $"{timeout.TotalSeconds:0.###} s; missing job ids: {named}{more}";
    }
}
