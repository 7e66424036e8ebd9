using System.Diagnostics;
using OpenTelemetry;

namespace GrpoAspire.Coordination;

/// <summary>The Redis command spans of Aspire's client integration, kept where they belong to a trace.</summary>
public static class RedisTracing
{
    /// <summary>
    /// The ActivitySource of the StackExchange.Redis instrumentation that Aspire.StackExchange.Redis carries (vendored
    /// from OpenTelemetry.Instrumentation.StackExchangeRedis, so its options are not ours to set).
    /// </summary>
    public const string SourceName = "OpenTelemetry.Instrumentation.StackExchangeRedis";

    /// <summary>Commands that poll a stream: a step waiting for its rollouts issues one every 50 ms.</summary>
    public static readonly IReadOnlySet<string> PollingCommands = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "XREAD", "XREADGROUP", "XAUTOCLAIM" };

    /// <summary>
    /// Un-records Redis command spans that have no parent, and the stream polls of any span. The instrumentation makes a root span of every command issued
    /// outside a trace: an idle replica polls the job stream every 50 ms (XREADGROUP, XAUTOCLAIM), which would bury the
    /// traces of GRPO steps under thousands of one-span traces, as health probes would (ServiceDefaults filters those
    /// too). Inside a step the trainer polls for its rollouts the same way: 85 XREAD spans in a 4 s smoke step, hundreds in
    /// a step of the aha run, none of them telling more than the step's own span. Clearing the Recorded flag when the
    /// span starts works whatever the order of the processors: the export processors (OTLP, the JSONL trace file) skip
    /// spans that are not recorded. The other commands of a step (XADD of the jobs, XACK, the weights announcement)
    /// have a parent and are kept.
    /// </summary>
    public sealed class QuietSpanFilter : BaseProcessor<Activity>
    {
        public override void OnStart(Activity data)
        {
            ArgumentNullException.ThrowIfNull(data);
            if (data.Source.Name == SourceName && (data.ParentSpanId == default || PollingCommands.Contains(data.DisplayName)))
            {
                data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            }
        }
    }
}
