using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Coordination;

/// <summary>
/// The trainer's record of the jobs it enqueued and has not collected yet, each with the entry id it has now in the
/// jobs stream, so that a job lost with Redis's data can be told apart from a job still queued or being served.
/// </summary>
/// <remarks>
/// A job's entry stays in the jobs stream until its group is appended (replicas acknowledge, then delete, only after
/// appending), so a job whose entry is gone either has its group in the rollout stream already, or is lost: Redis
/// restarted empty (no persistence), or the stream was trimmed. <see cref="RolloutCollector"/> tells the two apart
/// by reading the rollout stream after <see cref="GoneAsync"/>. One ledger serves one trainer: calls must not overlap.
/// </remarks>
public sealed class JobLedger(RolloutJobQueue queue)
{
    private readonly Dictionary<string, (RolloutJob Job, string EntryId)> _jobs = new(StringComparer.Ordinal);

    /// <summary>Jobs enqueued and not yet forgotten.</summary>
    public int Count => _jobs.Count;

    /// <summary>Enqueues the jobs (one transaction, see <see cref="RolloutJobQueue.EnqueueAsync"/>) and records their entries.</summary>
    /// <exception cref="ArgumentException">A job id is already outstanding: its groups could not be told apart.</exception>
    public async Task EnqueueAsync(IReadOnlyList<RolloutJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Select(j => j.JobId).FirstOrDefault(_jobs.ContainsKey) is { } twice)
        {
            throw new ArgumentException($"job '{twice}' is already outstanding; job ids must be unique in a run", nameof(jobs));
        }

        await RecordAsync(jobs, cancellationToken);
    }

    /// <summary>The outstanding jobs among <paramref name="jobIds"/> whose entry is no longer in the jobs stream.</summary>
    public async Task<IReadOnlySet<string>> GoneAsync(IEnumerable<string> jobIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        var tracked = jobIds.Where(_jobs.ContainsKey).ToList();
        var present = await queue.ExistingAsync(tracked.Select(id => _jobs[id].EntryId).ToList(), cancellationToken);
        return tracked.Where(id => !present.Contains(_jobs[id].EntryId)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Enqueues the outstanding jobs <paramref name="jobIds"/> again, as they were, with the consumer group recreated
    /// first when it is gone; returns how many were enqueued.
    /// </summary>
    public async Task<int> ReenqueueAsync(IEnumerable<string> jobIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        var jobs = jobIds.Where(_jobs.ContainsKey).Select(id => _jobs[id].Job).ToList();
        if (jobs.Count == 0)
        {
            return 0;
        }

        await queue.EnsureGroupAsync(cancellationToken);
        await RecordAsync(jobs, cancellationToken);
        return jobs.Count;
    }

    /// <summary>Stops tracking <paramref name="jobIds"/> (collected: later groups of theirs are duplicates).</summary>
    public void Forget(IEnumerable<string> jobIds)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        foreach (var id in jobIds)
        {
            _jobs.Remove(id);
        }
    }

    private async Task RecordAsync(IReadOnlyList<RolloutJob> jobs, CancellationToken cancellationToken)
    {
        var entryIds = await queue.EnqueueAsync(jobs, cancellationToken);
        for (var i = 0; i < jobs.Count; i++)
        {
            _jobs[jobs[i].JobId] = (jobs[i], entryIds[i]);
        }
    }
}
