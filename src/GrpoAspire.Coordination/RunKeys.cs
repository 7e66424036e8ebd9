using System.Text.RegularExpressions;

namespace GrpoAspire.Coordination;

/// <summary>
/// The Redis keys and channel of one training run. Every name starts with <c>grpo:{run}:</c>, so two runs
/// on one Redis never see each other's jobs, and one <c>SCAN grpo:{run}:*</c> finds all of a run's state.
/// </summary>
/// <remarks>
/// The run name is validated because it becomes part of every key: a ':' would let one run's keys collide
/// with another's (run "a:jobs"), '{' '}' would change Redis Cluster hash slots, and whitespace or control
/// characters make keys that cannot be typed back into redis-cli.
/// </remarks>
public sealed partial class RunKeys
{
    /// <summary>Longest run name accepted; keys stay short enough to read in logs.</summary>
    public const int MaxRunLength = 64;

    public RunKeys(string run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!RunName().IsMatch(run))
        {
            throw new ArgumentException(
                $"run name '{run}' is not valid: use 1 to {MaxRunLength} characters of A-Z, a-z, 0-9, '_', '.' or '-'",
                nameof(run));
        }

        Run = run;
        Prefix = $"grpo:{run}:";
    }

    public string Run { get; }

    /// <summary><c>grpo:{run}:</c>, shared by every key and channel below.</summary>
    public string Prefix { get; }

    /// <summary>Stream of <c>RolloutJob</c> messages, read by the generation replicas through a consumer group.</summary>
    public string Jobs => Prefix + "jobs";

    /// <summary>Stream of scored <c>RolloutGroup</c> messages, read by the trainer.</summary>
    public string Rollouts => Prefix + "rollouts";

    /// <summary>Hash with the latest announced weights version and where to fetch it.</summary>
    public string WeightsVersion => Prefix + "weights:version";

    /// <summary>Pub/sub channel on which each new weights version is announced.</summary>
    public string WeightsChannel => Prefix + "weights";

    /// <summary>Hash with the trainer's progress (step, policy version, dataset cursor, status).</summary>
    public string TrainerState => Prefix + "trainer";

    /// <summary>True when <paramref name="run"/> is a valid run name.</summary>
    public static bool IsValidRun(string? run) => run is not null && RunName().IsMatch(run);

    public override string ToString() => Prefix;

    [GeneratedRegex(@"\A[A-Za-z0-9_.\-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RunName();
}
