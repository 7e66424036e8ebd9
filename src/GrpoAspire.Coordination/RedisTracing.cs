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

    /// <summary>
    /// Un-records Redis command spans that have no parent. The instrumentation makes a root span of every command issued
    /// outside a trace: an idle replica polls the job stream every 50 ms (XREADGROUP, XAUTOCLAIM), which would bury the
    /// traces of GRPO steps under thousands of one-span traces, as health probes would (ServiceDefaults filters those
    /// too). Clearing the Recorded flag when the span starts works whatever the order of the processors: the export
    /// processors (OTLP, the JSONL trace file) skip spans that are not recorded. Commands inside a step (XADD of the
    /// jobs, XRANGE of the rollouts, the weights announcement) have a parent and are kept.
    /// </summary>
    public sealed class UnparentedSpanFilter : BaseProcessor<Activity>
    {
        public override void OnStart(Activity data)
        {
            ArgumentNullException.ThrowIfNull(data);
            if (data.Source.Name == SourceName && data.ParentSpanId == default)
            {
                data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            }
        }
    }
}
