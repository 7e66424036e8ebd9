using GrpoAspire.Grpo.Recipes;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Learning rate at each optimizer step as transformers' schedulers compute it: linear warm-up over
/// ceil(warmup_ratio * max_steps) steps, then constant, linear decay to 0, or half a cosine to 0.
/// </summary>
public sealed class LearningRateSchedule(double peak, LrSchedulerType type, int maxSteps, double warmupRatio)
{
    public int WarmupSteps { get; } = (int)System.Math.Ceiling(warmupRatio * maxSteps);

    /// <summary>The rate used by the optimizer step that follows <paramref name="completedSteps"/> steps.</summary>
    public double At(int completedSteps)
    {
        if (completedSteps < WarmupSteps)
        {
            return peak * completedSteps / System.Math.Max(1, WarmupSteps);
        }

        var progress = (double)(completedSteps - WarmupSteps) / System.Math.Max(1, maxSteps - WarmupSteps);
        return type switch
        {
            LrSchedulerType.Constant => peak,
            LrSchedulerType.Linear => peak * System.Math.Max(0.0, 1.0 - progress),
            LrSchedulerType.Cosine => peak * System.Math.Max(0.0, 0.5 * (1.0 + System.Math.Cos(System.Math.PI * progress))),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "valid: constant, linear, cosine"),
        };
    }
}
