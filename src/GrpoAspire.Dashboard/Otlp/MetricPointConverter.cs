using GrpoAspire.Dashboard.Otlp.Protocol;
using GrpoAspire.Dashboard.Telemetry;

namespace GrpoAspire.Dashboard.Otlp;

/// <summary>
/// The data points of one OTLP metric as <see cref="MetricPoint"/>s: gauges and sums keep their value,
/// histograms and summaries their count, sum, min and max (buckets and quantiles are not kept).
/// </summary>
internal sealed class MetricPointConverter(OtlpValues values, string name, string service, long batch)
{
    public string Name => name;

    public List<MetricPoint> Convert(Metric metric, Rejections rejected)
    {
        var points = new List<MetricPoint>();
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                AddNumbers(points, "gauge", metric.Gauge.DataPoints, rejected);
                break;
            case Metric.DataOneofCase.Sum:
                AddNumbers(points, "sum", metric.Sum.DataPoints, rejected);
                break;
            case Metric.DataOneofCase.Histogram:
                points.AddRange(metric.Histogram.DataPoints.Select(point => Distribution(
                    "histogram", point.Attributes, point.TimeUnixNano, point.Count,
                    point.HasSum ? point.Sum : null, point.HasMin ? point.Min : null, point.HasMax ? point.Max : null)));
                break;
            case Metric.DataOneofCase.ExponentialHistogram:
                points.AddRange(metric.ExponentialHistogram.DataPoints.Select(point => Distribution(
                    "exponential_histogram", point.Attributes, point.TimeUnixNano, point.Count,
                    point.HasSum ? point.Sum : null, point.HasMin ? point.Min : null, point.HasMax ? point.Max : null)));
                break;
            case Metric.DataOneofCase.Summary:
                points.AddRange(metric.Summary.DataPoints.Select(point => Distribution(
                    "summary", point.Attributes, point.TimeUnixNano, point.Count, point.Sum, null, null)));
                break;
            default:
                // A metric without data has no point to reject; nothing to keep either.
                break;
        }

        return points;
    }

    private void AddNumbers(List<MetricPoint> points, string kind, IEnumerable<NumberDataPoint> dataPoints, Rejections rejected)
    {
        foreach (var point in dataPoints)
        {
            double? value = point.ValueCase switch
            {
                NumberDataPoint.ValueOneofCase.AsDouble => point.AsDouble,
                NumberDataPoint.ValueOneofCase.AsInt => point.AsInt,
                _ => null,
            };
            if (value is null)
            {
                rejected.Add($"data point of '{name}' has neither as_double nor as_int");
                continue;
            }

            points.Add(Point(kind, point.Attributes, point.TimeUnixNano) with { Value = value });
        }
    }

    private MetricPoint Distribution(
        string kind, Google.Protobuf.Collections.RepeatedField<KeyValue> attributes, ulong time, ulong count, double? sum, double? min, double? max) =>
        Point(kind, attributes, time) with { Count = count, Sum = sum, Min = min, Max = max };

    private MetricPoint Point(string kind, Google.Protobuf.Collections.RepeatedField<KeyValue> attributes, ulong time)
    {
        var kept = values.Attributes(attributes);
        return new MetricPoint
        {
            Name = name,
            Service = service,
            Kind = kind,
            TimeUnixNano = time,
            Attributes = kept,
            Batch = batch,
            SeriesKey = SeriesKey(kept),
        };
    }

    private string SeriesKey(IReadOnlyDictionary<string, string> attributes) =>
        attributes.Count == 0
            ? service
            : service + "\u001f" + string.Join('\u001f', attributes.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => pair.Key + "=" + pair.Value));
}
