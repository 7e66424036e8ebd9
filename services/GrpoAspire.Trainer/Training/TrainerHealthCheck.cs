using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrpoAspire.Trainer.Training;

/// <summary>/health: unhealthy once the run failed (the status RPC says why); loading or training is healthy.</summary>
internal sealed class TrainerHealthCheck(TrainingStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var current = status.Snapshot();
        return Task.FromResult(current.Status == "failed"
            ? HealthCheckResult.Unhealthy($"training failed: {current.Error}")
            : HealthCheckResult.Healthy($"{current.Status} at step {current.Step}"));
    }
}
