namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>Everything received over OTLP, each signal bounded by its own queue (count and bytes) (see <see cref="DashboardOptions"/>).</summary>
internal sealed class TelemetryStore(DashboardOptions options)
{
    private long _batch;

    public TraceStore Traces { get; } = new(options.MaxSpans, options.MaxBytesPerSignal);

    public MetricStore Metrics { get; } = new(options.MaxMetricPoints, options.MaxBytesPerSignal);

    public LogStore Logs { get; } = new(options.MaxLogRecords, options.MaxBytesPerSignal);

    /// <summary>A new number for the points of one resource in one export request (<see cref="MetricPoint.Batch"/>).</summary>
    public long NextBatch() => Interlocked.Increment(ref _batch);
}
