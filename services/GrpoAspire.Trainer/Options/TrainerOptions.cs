using System.ComponentModel.DataAnnotations;

namespace GrpoAspire.Trainer.Options;

/// <summary>Settings of the trainer service (section <c>Trainer</c>); the recipe holds the training itself.</summary>
public sealed record TrainerOptions
{
    public const string SectionName = "Trainer";

    /// <summary>The run: Redis keys <c>grpo:{run}:*</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9_.-]{1,64}$")]
    public string Run { get; init; } = "default";

    /// <summary>YAML recipe with the seed's TRL keys (as <c>grpo train --recipe</c>).</summary>
    [Required]
    public string Recipe { get; init; } = string.Empty;

    /// <summary>As <c>grpo train</c>: run folder, local model and dataset standing in for Hub ids, device.</summary>
    public string? Output { get; init; }

    public string? Model { get; init; }

    public string? Dataset { get; init; }

    public string? Device { get; init; }

    /// <summary>Overrides the recipe's max_steps.</summary>
    [Range(1, 10_000_000)]
    public int? MaxSteps { get; init; }

    /// <summary>How long a step waits for its rollouts before it fails, naming the missing jobs.</summary>
    [Range(1, 86_400)]
    public int RolloutTimeoutSeconds { get; init; } = 600;

    /// <summary>
    /// How often a step waiting for its rollouts checks that its missing jobs are still queued; a job lost with Redis's
    /// data (Redis restarted empty) is enqueued again, and the weights announcement, if gone, announced again.
    /// </summary>
    [Range(1, 3600)]
    public int LostJobCheckSeconds { get; init; } = 10;

    /// <summary>
    /// How long the trainer waits out an unreachable Redis before the run fails with "Redis was unreachable for N s while
    /// ... (outage limit N s)" (exit code 1 with ExitWhenDone).
    /// </summary>
    [Range(1, 86_400)]
    public int RedisOutageSeconds { get; init; } = 60;

    /// <summary>Weight versions kept in memory for replicas still pulling an older one.</summary>
    [Range(1, 16)]
    public int KeepVersions { get; init; } = 2;

    /// <summary>
    /// Ends the process once training is over (an orchestrator then ends the app): exit code 0 when the run finished
    /// or was stopped, 1 when it failed. False keeps the service up, serving the last weights and the status.
    /// </summary>
    public bool ExitWhenDone { get; init; }

    /// <summary>Bearer token of the weight and control RPCs (configuration <c>Security:Token</c> when unset here).</summary>
    public string? Token { get; init; }
}
