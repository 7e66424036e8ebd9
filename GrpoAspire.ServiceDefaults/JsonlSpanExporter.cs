using System.Diagnostics;
using System.Text.Json;
using OpenTelemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Appends finished spans as JSON lines (trace id, span id, parent id, name, service, start, duration, tags)
/// to the file named by <c>GRPO_TRACE_FILE</c>. For tests and offline runs without a collector: the
/// end-to-end tests read the files of the three services to check that one trace spans them all.
/// </summary>
public sealed class JsonlSpanExporter(string path, string serviceName) : BaseExporter<Activity>
{
    public const string PathVariable = "GRPO_TRACE_FILE";
    private readonly object _gate = new();

    public override ExportResult Export(in Batch<Activity> batch)
    {
        var lines = new List<string>();
        foreach (var activity in batch)
        {
            lines.Add(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["trace_id"] = activity.TraceId.ToHexString(),
                ["span_id"] = activity.SpanId.ToHexString(),
                ["parent_id"] = activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
                ["name"] = activity.DisplayName,
                ["service"] = serviceName,
                ["kind"] = activity.Kind.ToString(),
                ["start"] = activity.StartTimeUtc.ToString("O"),
                ["duration_ms"] = activity.Duration.TotalMilliseconds,
                ["status"] = activity.Status.ToString(),
                ["tags"] = activity.TagObjects.ToDictionary(t => t.Key, t => t.Value?.ToString()),
            }));
        }

        lock (_gate)
        {
            File.AppendAllLines(path, lines);
        }

        return ExportResult.Success;
    }
}
