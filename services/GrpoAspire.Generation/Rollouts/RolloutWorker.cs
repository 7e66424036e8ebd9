using System.Diagnostics;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using GrpoAspire.Generation.Options;
using GrpoAspire.Generation.Policy;
using GrpoAspire.Generation.Weights;
using Microsoft.Extensions.Options;

namespace GrpoAspire.Generation.Rollouts;

/// <summary>
/// The replica's main loop: take jobs from the run's stream (new ones, then those of dead replicas), make sure
/// the served weights are recent enough, sample all jobs together, score through the reward service, append the
/// groups to the rollout stream, and only then acknowledge the jobs.
/// </summary>
internal sealed class RolloutWorker(
    RolloutJobQueue queue,
    RolloutStream rollouts,
    PolicyHost policy,
    WeightFollower weights,
    RolloutScorer scorer,
    GenerationStatistics statistics,
    IOptions<GenerationOptions> options,
    ILogger<RolloutWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.ConsumeJobs)
        {
            return;
        }

        await queue.EnsureGroupAsync(stoppingToken);
        var replica = settings.ReplicaName;
        logger.LogInformation("replica {Replica} takes jobs of run {Run}", replica, settings.Run);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var jobs = await queue.WaitForJobsAsync(replica, settings.MaxJobsPerBatch, TimeSpan.FromMilliseconds(settings.PollIntervalMilliseconds), stoppingToken);
                if (jobs.Count > 0)
                {
                    await ServeAsync(jobs, replica, settings, stoppingToken);
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down: whatever failed (Redis going away first) is not news.
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Unacknowledged jobs stay pending: this replica or another takes them again.
                logger.LogError(e, "serving jobs failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task ServeAsync(IReadOnlyList<QueuedJob> queued, string replica, GenerationOptions settings, CancellationToken cancellationToken)
    {
        using var span = StartSpan(queued);
        var rejected = new List<(QueuedJob Job, string Problem)>();
        var good = new List<QueuedJob>();
        foreach (var job in queued)
        {
            if (RolloutSampling.Problem(job.Job, settings, policy.Tokenizer.VocabSize, policy.ContextLength) is { } problem)
            {
                rejected.Add((job, problem));
            }
            else
            {
                good.Add(job);
            }
        }

        foreach (var (job, problem) in rejected)
        {
            logger.LogWarning("rejecting {Problem}", problem);
            await rollouts.AppendAsync(new RolloutGroup { JobId = job.Job.JobId, Step = job.Job.Step, PromptIndex = job.Job.PromptIndex, Replica = replica, Error = problem }, cancellationToken);
            await queue.AckAsync(job.EntryId, cancellationToken);
        }

        // Jobs of one trainer incarnation at a time: versions of different incarnations are different weights.
        foreach (var batch in good.GroupBy(j => j.Job.Incarnation, StringComparer.Ordinal))
        {
            await ServeIncarnationAsync([.. batch], batch.Key, replica, settings, span, cancellationToken);
        }
    }

    private async Task ServeIncarnationAsync(IReadOnlyList<QueuedJob> jobs, string incarnation, string replica, GenerationOptions settings,
        Activity? span, CancellationToken cancellationToken)
    {
        // Bounded staleness: the jobs say which version they need at least (the trainer's, when on-policy).
        var needed = jobs.Max(j => j.Job.MinPolicyVersion);
        if (!await weights.WaitForVersionAsync(incarnation, needed, TimeSpan.FromSeconds(settings.WeightsTimeoutSeconds), cancellationToken))
        {
            // Another trainer incarnation announced since: the one that asked is gone, and nobody collects these.
            logger.LogWarning("dropping {Count} jobs of trainer incarnation {Incarnation}, which is no longer the announced one", jobs.Count, incarnation);
            await queue.AckAsync(jobs.Select(j => j.EntryId).ToArray(), cancellationToken);
            return;
        }

        var watch = Stopwatch.StartNew();
        var (sampled, served) = await policy.UseAsync(
            (model, stopping) => (
                RolloutSampling.Sample(model, jobs.Select(j => j.Job).ToArray(), settings.MaxBatchSequences, settings.BatchRowsOn(policy.Device), policy.Decode, stopping),
                policy.Served),
            cancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        span?.SetTag("grpo.policy_version", served.Version);
        span?.SetTag("grpo.sequences", sampled.Sum(s => s.Sequences.Count));

        var groups = await scorer.ScoreAsync(sampled, policy.Tokenizer, served, replica, seconds, cancellationToken);
        for (var i = 0; i < groups.Count; i++)
        {
            await rollouts.AppendAsync(groups[i], cancellationToken);
            await queue.AckAsync(jobs[i].EntryId, cancellationToken);
        }

        statistics.Served(jobs.Count, groups.Count, sampled.Sum(s => s.Sequences.Sum(q => q.TokenIds.Length)), seconds);
    }

    /// <summary>A span under the trace of the trainer's step that asked for the first job, linking the others.</summary>
    private static Activity? StartSpan(IReadOnlyList<QueuedJob> jobs)
    {
        ActivityContext.TryParse(jobs[0].Job.Traceparent, null, out var parent);
        var links = jobs.Skip(1)
            .Select(j => ActivityContext.TryParse(j.Job.Traceparent, null, out var c) ? c : default)
            .Where(c => c != default && c.TraceId != parent.TraceId)
            .Distinct()
            .Select(c => new ActivityLink(c))
            .ToArray();
        var span = GrpoTelemetry.ActivitySource.StartActivity("generation.rollouts", ActivityKind.Consumer, parent, links: links);
        span?.SetTag("grpo.jobs", jobs.Count);
        span?.SetTag("grpo.step", jobs[0].Job.Step);
        return span;
    }
}
