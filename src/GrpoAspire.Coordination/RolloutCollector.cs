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
/// Jobs lost with Redis's data are asked for again (<see cref="JobLedger"/>), and since the first group of a job
/// wins, one that arrives twice (the lost job's replica finished after all) is counted once.
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
    /// and returns them ordered by prompt index (then job id), whatever order the replicas finished in. With a
    /// <paramref name="ledger"/>, every <see cref="CoordinationOptions.LostJobCheckInterval"/> the jobs whose entry is
    /// gone and whose group never arrived are enqueued again, and the step's ids are forgotten once collected.
    /// A Redis outage is waited out up to <see cref="CoordinationOptions.MaxOutage"/>.
    /// </summary>
    /// <exception cref="TimeoutException">Not all arrived within <paramref name="timeout"/>; names the missing job ids.</exception>
    /// <exception cref="RedisUnavailableException">Redis was unreachable for longer than MaxOutage.</exception>
    public async Task<IReadOnlyList<RolloutGroup>> CollectAsync(int step, IReadOnlySet<string> expectedJobIds,
        TimeSpan timeout, CancellationToken cancellationToken = default, JobLedger? ledger = null)
    {
        ArgumentNullException.ThrowIfNull(expectedJobIds);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var clock = Stopwatch.StartNew();
        var nextCheck = _options.LostJobCheckInterval;
        var found = TakeAhead(step, expectedJobIds);
        while (found.Count < expectedJobIds.Count)
        {
            if (await ReadAsync(step, expectedJobIds, found, cancellationToken) || found.Count == expectedJobIds.Count)
            {
                continue;
            }

            if (ledger is not null && clock.Elapsed >= nextCheck)
            {
                await RequeueLostAsync(step, expectedJobIds, found, ledger, cancellationToken);
                nextCheck = clock.Elapsed + _options.LostJobCheckInterval;
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

        ledger?.Forget(expectedJobIds);
        return [.. found.Values.OrderBy(g => g.PromptIndex).ThenBy(g => g.JobId, StringComparer.Ordinal)];
    }

    /// <summary>One XREAD after <see cref="Position"/>, its groups accepted; true when it returned a full batch (more may wait).</summary>
    private async Task<bool> ReadAsync(int step, IReadOnlySet<string> expected, Dictionary<string, RolloutGroup> found,
        CancellationToken cancellationToken)
    {
        var entries = await RedisOutage.RetryAsync(
            () => _db.StreamReadAsync(_key, Position, _options.MaxEntriesPerRead), _options,
            $"collecting the groups of step {step}", _logger, cancellationToken);
        foreach (var entry in entries)
        {
            Position = entry.Id.ToString();
            Accept(step, expected, entry, found);
        }

        return entries.Length == _options.MaxEntriesPerRead;
    }

    /// <summary>Enqueues again the step's jobs that are gone from the jobs stream and whose groups are not in the rollout stream.</summary>
    private async Task RequeueLostAsync(int step, IReadOnlySet<string> expected, Dictionary<string, RolloutGroup> found,
        JobLedger ledger, CancellationToken cancellationToken)
    {
        var missing = expected.Where(id => !found.ContainsKey(id)).ToList();
        var gone = await RedisOutage.RetryAsync(() => ledger.GoneAsync(missing, cancellationToken), _options,
            $"checking the jobs of step {step}", _logger, cancellationToken);
        if (gone.Count == 0)
        {
            return;
        }

        // A group is appended before its job's entry is deleted: reading to the end of the stream now sees the group
        // of every job that was served before the check, so only the lost ones remain.
        while (await ReadAsync(step, expected, found, cancellationToken))
        {
        }

        var lost = gone.Where(id => !found.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
        if (lost.Count == 0)
        {
            return;
        }

        await RedisOutage.RetryAsync(() => ledger.ReenqueueAsync(lost, cancellationToken), _options,
            $"enqueueing the lost jobs of step {step} again", _logger, cancellationToken);
        CoordinationLog.JobsLost(_logger, step, lost.Count, string.Join(", ", lost.Take(MaxIdsInMessage)));
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
