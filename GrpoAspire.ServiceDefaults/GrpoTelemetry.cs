using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>The activity source and meter every GrpoAspire component reports through.</summary>
public static class GrpoTelemetry
{
    public const string ActivitySourceName = "GrpoAspire";
    public const string MeterName = "GrpoAspire";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
    public static readonly Meter Meter = new(MeterName);
}
