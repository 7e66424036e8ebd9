using System.Diagnostics;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Spans of a GRPO step (trainer.step, trainer.generate, trainer.optimize, trainer.checkpoint), on the source
/// every GrpoAspire service exports ("GrpoAspire", as GrpoTelemetry in ServiceDefaults). Without a listener,
/// starting a span costs nothing.
/// </summary>
public static class TrainingTelemetry
{
    public const string SourceName = "GrpoAspire";

    public static readonly ActivitySource Source = new(SourceName);
}
