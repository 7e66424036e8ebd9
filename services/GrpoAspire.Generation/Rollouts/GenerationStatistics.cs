using System.Diagnostics.Metrics;

namespace GrpoAspire.Generation.Rollouts;

/// <summary>Counters of a replica, for its status RPC and as OpenTelemetry metrics.</summary>
public sealed class GenerationStatistics
{
    private static readonly Counter<long> Jobs = GrpoTelemetry.Meter.CreateCounter<long>("grpo.generation.jobs", description: "rollout jobs served");
    private static readonly Counter<long> Tokens = GrpoTelemetry.Meter.CreateCounter<long>("grpo.generation.tokens", description: "completion tokens sampled");
    private static readonly Histogram<double> BatchSeconds = GrpoTelemetry.Meter.CreateHistogram<double>("grpo.generation.batch_seconds", "s", "sampling time of a batch");
    private long _jobs;
    private long _groups;

    public long JobsCompleted => Interlocked.Read(ref _jobs);

    public long GroupsAppended => Interlocked.Read(ref _groups);

    public void Served(int jobs, int groups, long tokens, double seconds)
    {
        Interlocked.Add(ref _jobs, jobs);
        Interlocked.Add(ref _groups, groups);
        Jobs.Add(jobs);
        Tokens.Add(tokens);
        BatchSeconds.Record(seconds);
    }
}
