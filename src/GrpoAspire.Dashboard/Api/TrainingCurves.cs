using GrpoAspire.Dashboard.Telemetry;

namespace GrpoAspire.Dashboard.Api;

/// <summary>
/// Training curves from the trainer's gauges: reward, success rate, KL, loss and tokens/s against the step.
/// The trainer records <c>grpo.trainer.step</c> with the other gauges, so a point's step is the step gauge
/// of the same export batch and service; without one (another sender, or the step gauge already dropped
/// from the store) it is the point's position in its series. An SDK exports a gauge's last value again at
/// every collection, so each step keeps its last point only.
/// </summary>
internal static class TrainingCurves
{
    public const string StepMetric = "grpo.trainer.step";

    /// <summary>The curves the UI draws, in its order: metric name and short label.</summary>
    public static readonly IReadOnlyList<(string Metric, string Label)> Definitions =
    [
        ("grpo.trainer.reward", "reward"),
        ("grpo.trainer.success_rate", "success rate"),
        ("grpo.trainer.kl", "KL"),
        ("grpo.trainer.tokens_per_second", "tokens/s"),
        ("grpo.trainer.loss", "loss"),
    ];

    public static CurvesView Build(MetricStore metrics)
    {
        var steps = new Dictionary<(string Service, long Batch), long>();
        foreach (var point in metrics.Points(StepMetric, null) ?? [])
        {
            if (point.Value is { } value && double.IsFinite(value))
            {
                steps[(point.Service, point.Batch)] = (long)Math.Round(value);
            }
        }

        var curves = new List<CurveSeries>();
        foreach (var (metric, label) in Definitions)
        {
            var byService = (metrics.Points(metric, null) ?? [])
                .Where(point => point.Value is not null)
                .GroupBy(point => point.Service, StringComparer.Ordinal)
                .OrderBy(group => group.Key, StringComparer.Ordinal);
            foreach (var service in byService)
            {
                curves.Add(new CurveSeries(metric, label, service.Key, PointsOf(service, steps)));
            }
        }

        return new CurvesView(Definitions.Select(definition => new CurveDefinition(definition.Metric, definition.Label)).ToArray(), curves);
    }

    private static CurvePoint[] PointsOf(IEnumerable<MetricPoint> points, Dictionary<(string Service, long Batch), long> steps)
    {
        var byStep = new SortedDictionary<long, CurvePoint>();
        var position = 0L;
        foreach (var point in points.OrderBy(point => point.Batch).ThenBy(point => point.TimeUnixNano))
        {
            position++;
            var step = steps.TryGetValue((point.Service, point.Batch), out var recorded) ? recorded : position;
            byStep[step] = new CurvePoint(step, point.Value!.Value, UnixNanos.ToTime(point.TimeUnixNano));
        }

        return byStep.Values.ToArray();
    }
}

/// <summary><c>/api/curves</c>: the curves the UI draws (even before data) and the series received for them.</summary>
public sealed record CurvesView(IReadOnlyList<CurveDefinition> Definitions, IReadOnlyList<CurveSeries> Curves);

public sealed record CurveDefinition(string Metric, string Label);

/// <summary>One curve of one service, by step.</summary>
public sealed record CurveSeries(string Metric, string Label, string Service, IReadOnlyList<CurvePoint> Points);

public sealed record CurvePoint(long Step, double Value, DateTimeOffset Time);
