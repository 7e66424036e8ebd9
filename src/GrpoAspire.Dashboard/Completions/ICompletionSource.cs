namespace GrpoAspire.Dashboard.Completions;

/// <summary>
/// Where the dashboard's Completions tab reads the latest completion samples from. The host picks it (the
/// trainer's run folder, see <see cref="CompletionSamplesFile"/>); the dashboard calls it on every request
/// of <c>/api/completions</c>, so it must be quick and bounded.
/// </summary>
public interface ICompletionSource
{
    /// <summary>At most <paramref name="max"/> samples, newest first; empty when there are none yet.</summary>
    IReadOnlyList<CompletionSample> GetLatest(int max);
}

/// <summary>One sampled completion: its header line (step, task, reward, verdict) and its text.</summary>
/// <param name="Step">The training step from a header <c>step N | ...</c>; null when the header has none.</param>
public sealed record CompletionSample(int? Step, string Header, string Text);
