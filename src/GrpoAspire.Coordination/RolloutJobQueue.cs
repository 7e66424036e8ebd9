using GrpoAspire.Contracts.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace GrpoAspire.Coordination;

/// <summary>
/// The run's job queue: the stream <c>grpo:{run}:jobs</c> read by the generation replicas through the consumer
/// group <c>generation</c>, so each job goes to one replica, and a job whose replica died (read, never
/// acknowledged) is taken over by another with XAUTOCLAIM.
/// </summary>
/// <remarks>
/// Delivery is at least once: a replica that is slow rather than dead may finish a job that another one
/// reclaimed, and both append a group. The trainer's <see cref="RolloutCollector"/> keeps the first.
/// Jobs are acknowledged only after their group is appended, never before.
/// </remarks>
public sealed class RolloutJobQueue
{
    public const string GroupName = "generation";

    /// <summary>Bounds the XAUTOCLAIM calls of one reclaim: each scans at most ~10 x count pending entries.</summary>
    private const int MaxReclaimRounds = 64;

    private readonly IDatabase _db;
    private readonly RedisKey _key;
    private readonly CoordinationOptions _options;
    private readonly ILogger _logger;
    private readonly Action<MalformedEntry>? _onMalformed;

    // Where the next XAUTOCLAIM scan of the pending list starts, so that successive reclaims walk the whole
    // list instead of rescanning its head. Callers racing on it at worst rescan a part of the list.
    private string _reclaimCursor = "0-0";

    public RolloutJobQueue(IConnectionMultiplexer redis, RunKeys keys, CoordinationOptions? options = null,
        ILogger<RolloutJobQueue>? logger = null, Action<MalformedEntry>? onMalformed = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(keys);
        _options = options ?? new CoordinationOptions();
        _options.Validate();
        _db = redis.GetDatabase();
        Keys = keys;
        _key = keys.Jobs;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _onMalformed = onMalformed;
    }

    public RunKeys Keys { get; }

    /// <summary>
    /// Appends the jobs in order (XADD, field <c>m</c>, approximate MAXLEN <see cref="CoordinationOptions.JobsMaxLength"/>)
    /// and returns their entry ids. All in one MULTI/EXEC: a replica's read sees all of a step's jobs or none, so
    /// it can batch them, and a failed enqueue leaves no half step behind.
    /// </summary>
    public async Task<IReadOnlyList<string>> EnqueueAsync(IEnumerable<RolloutJob> jobs,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var list = jobs.ToList();
        foreach (var job in list)
        {
            ArgumentNullException.ThrowIfNull(job, nameof(jobs));
            if (CheckJob(job) is { } problem)
            {
                throw new ArgumentException($"cannot enqueue job '{job.JobId}': {problem}", nameof(jobs));
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (list.Count == 0)
        {
            return [];
        }

        var transaction = _db.CreateTransaction();
        var adds = list
            .Select(job => transaction.StreamAddAsync(_key, StreamMessages.Encode(job), messageId: null,
                maxLength: _options.JobsMaxLength, useApproximateMaxLength: true))
            .ToArray();
        if (!await transaction.ExecuteAsync().WaitAsync(cancellationToken))
        {
            throw new InvalidOperationException($"enqueueing {list.Count} jobs on {_key} was not executed");
        }

        var ids = await Task.WhenAll(adds).WaitAsync(cancellationToken);
        return Array.ConvertAll(ids, id => id.ToString());
    }

    /// <summary>
    /// Creates the consumer group (and the stream) when missing; true when it created it. The group starts at the
    /// beginning of the stream, so jobs enqueued before the first replica came up are delivered too.
    /// </summary>
    public async Task<bool> EnsureGroupAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _db.StreamCreateConsumerGroupAsync(_key, GroupName, "0-0", createStream: true)
                .WaitAsync(cancellationToken);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            return false;
        }
    }

    /// <summary>
    /// Up to <paramref name="count"/> jobs never delivered to any consumer of the group (XREADGROUP <c>&gt;</c>), now
    /// pending on <paramref name="consumer"/> until acknowledged. Creates the group when it is missing.
    /// </summary>
    public async Task<IReadOnlyList<QueuedJob>> ReadAsync(string consumer, int count,
        CancellationToken cancellationToken = default)
    {
        CheckConsumer(consumer);
        CheckCount(count);
        var entries = await WithGroupAsync(
            () => _db.StreamReadGroupAsync(_key, GroupName, consumer, StreamPosition.NewMessages, count),
            cancellationToken);
        return await DecodeAsync(entries, cancellationToken);
    }

    /// <summary>Acknowledges a job (XACK), then deletes its entry when <see cref="CoordinationOptions.DeleteAckedJobs"/>; false when it was not pending.</summary>
    public async Task<bool> AckAsync(string entryId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryId);
        return await AckAsync([entryId], cancellationToken) == 1;
    }

    /// <summary>Acknowledges several jobs at once; returns how many were pending.</summary>
    public async Task<long> AckAsync(IReadOnlyCollection<string> entryIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entryIds);
        if (entryIds.Count == 0)
        {
            return 0;
        }

        var ids = entryIds.Select(id => (RedisValue)id).ToArray();
        var acked = await _db.StreamAcknowledgeAsync(_key, GroupName, ids).WaitAsync(cancellationToken);
        if (acked > 0 && _options.DeleteAckedJobs)
        {
            await _db.StreamDeleteAsync(_key, ids).WaitAsync(cancellationToken);
        }

        return acked;
    }

    /// <summary>
    /// Takes over up to <paramref name="count"/> jobs that some consumer read but has not acknowledged for at least
    /// <paramref name="minIdle"/> (XAUTOCLAIM); they are now pending on <paramref name="consumer"/>.
    /// </summary>
    /// <remarks>
    /// That includes the consumer's own idle jobs, as XAUTOCLAIM does: a replica restarted under the same name
    /// (a StatefulSet pod) gets back what it held before the restart.
    /// </remarks>
    public async Task<IReadOnlyList<QueuedJob>> ReclaimAsync(string consumer, TimeSpan minIdle, int count,
        CancellationToken cancellationToken = default)
    {
        CheckConsumer(consumer);
        CheckCount(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(minIdle, TimeSpan.Zero);

        var claimed = new List<StreamEntry>();
        var cursor = _reclaimCursor;
        var passFromStart = cursor == "0-0";
        for (var round = 0; round < MaxReclaimRounds && claimed.Count < count; round++)
        {
            var result = await WithGroupAsync(
                () => _db.StreamAutoClaimAsync(_key, GroupName, consumer, (long)minIdle.TotalMilliseconds, cursor,
                    count - claimed.Count),
                cancellationToken);
            claimed.AddRange(result.ClaimedEntries);
            if (result.DeletedIds is { Length: > 0 } deleted)
            {
                // Redis 7 drops these from the pending list itself: trimmed by MAXLEN before anyone acked them.
                CoordinationLog.PendingJobsTrimmed(_logger, _key.ToString(), deleted.Length,
                    string.Join(", ", deleted.Take(10)));
            }

            cursor = result.NextStartId.ToString();
            if (cursor == "0-0")
            {
                if (passFromStart)
                {
                    break;
                }

                passFromStart = true;
            }
        }

        _reclaimCursor = cursor;
        return await DecodeAsync([.. claimed], cancellationToken);
    }

    /// <summary>Jobs delivered to some consumer and not yet acknowledged (XPENDING); 0 when the group does not exist.</summary>
    public async Task<long> PendingCountAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var info = await _db.StreamPendingAsync(_key, GroupName).WaitAsync(cancellationToken);
            return info.PendingMessageCount;
        }
        catch (RedisServerException e) when (StreamMessages.IsNoGroup(e))
        {
            return 0;
        }
    }

    /// <summary>Those of <paramref name="entryIds"/> still in the jobs stream (one XRANGE each, pipelined).</summary>
    public async Task<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> entryIds,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entryIds);
        var batch = _db.CreateBatch();
        var reads = entryIds.Select(id => (Id: id, Read: batch.StreamRangeAsync(_key, id, id, count: 1))).ToList();
        batch.Execute();
        await Task.WhenAll(reads.Select(r => r.Read)).WaitAsync(cancellationToken);
        return reads.Where(r => r.Read.Result.Length > 0).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Entries in the jobs stream (XLEN): not yet read, or read and not yet acknowledged and deleted.</summary>
    public Task<long> LengthAsync(CancellationToken cancellationToken = default) =>
        _db.StreamLengthAsync(_key).WaitAsync(cancellationToken);

    /// <summary>
    /// Waits until there are jobs for <paramref name="consumer"/>: new ones first, then jobs abandoned for longer
    /// than <see cref="CoordinationOptions.ReclaimMinIdle"/>, polling every <paramref name="pollInterval"/>
    /// (StackExchange.Redis multiplexes one connection, so it never issues blocking XREADGROUP ... BLOCK).
    /// Lost connections are logged and retried on the next poll; only cancellation ends the wait.
    /// </summary>
    public async Task<IReadOnlyList<QueuedJob>> WaitForJobsAsync(string consumer, int count, TimeSpan pollInterval,
        CancellationToken cancellationToken)
    {
        CheckConsumer(consumer);
        CheckCount(count);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var jobs = await ReadAsync(consumer, count, cancellationToken);
                if (jobs.Count == 0)
                {
                    jobs = await ReclaimAsync(consumer, _options.ReclaimMinIdle, count, cancellationToken);
                }

                if (jobs.Count > 0)
                {
                    return jobs;
                }
            }
            catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
            {
                CoordinationLog.PollFailed(_logger, _key.ToString(), e);
            }

            await Task.Delay(pollInterval, cancellationToken);
        }
    }

    private static string? CheckJob(RolloutJob job) => string.IsNullOrEmpty(job.JobId) ? "job_id is empty" : null;

    private static void CheckConsumer(string consumer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(consumer);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(consumer.Length, 256, nameof(consumer));
    }

    private void CheckCount(int count)
    {
        if (count < 1 || count > _options.MaxEntriesPerRead)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"count must be between 1 and MaxEntriesPerRead ({_options.MaxEntriesPerRead})");
        }
    }

    /// <summary>Runs a group command, creating the group once if Redis says it is missing (a replica that started
    /// before the trainer, or a stream deleted under it).</summary>
    private async Task<T> WithGroupAsync<T>(Func<Task<T>> command, CancellationToken cancellationToken)
    {
        try
        {
            return await command().WaitAsync(cancellationToken);
        }
        catch (RedisServerException e) when (StreamMessages.IsNoGroup(e))
        {
            await EnsureGroupAsync(cancellationToken);
            return await command().WaitAsync(cancellationToken);
        }
    }

    /// <summary>Parses delivered entries; malformed ones are reported and acknowledged, so no replica gets them again.</summary>
    private async Task<IReadOnlyList<QueuedJob>> DecodeAsync(StreamEntry[] entries, CancellationToken cancellationToken)
    {
        var jobs = new List<QueuedJob>(entries.Length);
        List<string>? bad = null;
        foreach (var entry in entries)
        {
            var id = entry.Id.ToString();
            if (StreamMessages.TryDecode(entry, RolloutJob.Parser, CheckJob, out var job, out var reason))
            {
                jobs.Add(new QueuedJob(id, job));
                continue;
            }

            var malformed = new MalformedEntry(_key.ToString(), id, reason);
            CoordinationLog.MalformedEntry(_logger, malformed.Stream, malformed.EntryId, malformed.Reason);
            _onMalformed?.Invoke(malformed);
            (bad ??= []).Add(id);
        }

        if (bad is not null)
        {
            await AckAsync(bad, cancellationToken);
        }

        return jobs;
    }
}
