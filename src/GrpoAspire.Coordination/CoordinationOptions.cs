using System.ComponentModel.DataAnnotations;

namespace GrpoAspire.Coordination;

/// <summary>
/// Bounds of the Redis coordination layer. Every stream has a MAXLEN and every read a count, so a run whose
/// consumers stopped cannot grow Redis without limit, and one read cannot pull an unbounded batch into memory.
/// </summary>
public sealed record CoordinationOptions
{
    public const string SectionName = "Coordination";

    /// <summary>
    /// Approximate MAXLEN of the jobs stream. A safety bound, not a working size: acknowledged jobs are deleted,
    /// so the stream holds only jobs not yet done; trimming drops the oldest, which would lose unread jobs.
    /// </summary>
    [Range(typeof(long), "1000", "100000000")]
    public long JobsMaxLength { get; init; } = 1_000_000;

    /// <summary>
    /// Approximate MAXLEN of the rollouts stream. Groups are large (G completions with tokens, log-probs and
    /// text, ~100 KB each at G=16 and 1k tokens), so this bounds Redis memory; it must stay well above the
    /// groups of a few steps, which the trainer reads as they arrive.
    /// </summary>
    [Range(typeof(long), "100", "10000000")]
    public long RolloutsMaxLength { get; init; } = 20_000;

    /// <summary>Most entries one XREAD, XREADGROUP or XAUTOCLAIM may return.</summary>
    [Range(1, 10_000)]
    public int MaxEntriesPerRead { get; init; } = 512;

    /// <summary>Delete a job's entry when it is acknowledged (XACK then XDEL), so done jobs free their memory.</summary>
    public bool DeleteAckedJobs { get; init; } = true;

    /// <summary>
    /// How long a job must stay unacknowledged before another replica may take it over. Longer than the
    /// slowest generation of one batch, or live replicas steal each other's work.
    /// </summary>
    public TimeSpan ReclaimMinIdle { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Pause between two empty reads of the rollouts stream while the trainer waits for groups.</summary>
    public TimeSpan CollectPollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Most groups of later steps that the collector keeps while collecting an earlier one (a trainer that
    /// enqueues step s+1 before it has collected step s). Beyond that they are dropped with a warning.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxBufferedGroups { get; init; } = 4_096;

    /// <summary>
    /// How often the trainer, while waiting for a step's groups, checks that each missing job is still in the jobs
    /// stream. A job that is gone and whose group never arrived (Redis restarted empty, or the stream trimmed) is
    /// enqueued again; without the check the step would wait for the whole rollout timeout.
    /// </summary>
    public TimeSpan LostJobCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a trainer's Redis command keeps being retried while Redis is unreachable (a restarting pod) before it
    /// fails with <see cref="RedisUnavailableException"/>.
    /// </summary>
    public TimeSpan MaxOutage { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
        {
            throw new ArgumentException($"invalid coordination options: {string.Join("; ", results.Select(r => r.ErrorMessage))}");
        }

        if (ReclaimMinIdle <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ReclaimMinIdle must be positive, not {ReclaimMinIdle}");
        }

        foreach (var (name, value) in new[] { (nameof(LostJobCheckInterval), LostJobCheckInterval), (nameof(MaxOutage), MaxOutage) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{name} must be positive, not {value}");
            }
        }

        if (CollectPollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"CollectPollInterval must be positive, not {CollectPollInterval}");
        }
    }
}
