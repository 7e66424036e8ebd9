using GrpoAspire.Tasks;
using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Grpo.Training;

/// <summary>One prompt of a step: the record it was rendered from and its token ids (already truncated to max_prompt_length).</summary>
public sealed record PromptJob(int Index, TaskRecord Record, string PromptText, IReadOnlyList<int> PromptIds);

/// <summary>A sampled completion with its score and the policy version that sampled it.</summary>
public sealed record ScoredCompletion(
    int PromptIndex,
    int[] TokenIds,
    float[] SamplingLogProbs,
    FinishReason FinishReason,
    string Text,
    RewardBreakdown Reward,
    long PolicyVersion = 0);

/// <summary>
/// One sampled completion of a prompt, with the sampler's per-token log-probs (in <paramref name="Sequence"/>) and the
/// policy version that sampled it. The generation service sends it scored (<paramref name="Reward"/>) and decoded
/// (<paramref name="Text"/>); the colocated source leaves both to the trainer.
/// </summary>
public sealed record Rollout(int PromptIndex, GeneratedSequence Sequence, long PolicyVersion, RewardBreakdown? Reward = null, string? Text = null);

/// <summary>
/// The rollouts a step asks for: G completions per prompt, sampled by a policy of version
/// <paramref name="MinPolicyVersion"/> or newer (the version being trained minus max_staleness).
/// </summary>
public sealed record RolloutRequest(int Step, IReadOnlyList<PromptJob> Prompts, int NumGenerations, SamplingParams Sampling, long MinPolicyVersion);

/// <summary>
/// Where rollouts come from (the colocated sampler or the generation service). Requests are submitted ahead of the step
/// that collects them, so a source with its own workers samples them while the trainer trains; the rollouts of a step
/// come back G consecutive ones per prompt, prompts in the order requested.
/// </summary>
public interface IRolloutSource
{
    Task SubmitAsync(RolloutRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<Rollout>> CollectAsync(int step, CancellationToken cancellationToken);
}

/// <summary>
/// The colocated rollout source: the trainer's own model and sampler (like TRL without vLLM). It samples when a step
/// collects, with the policy as it is then, so its rollouts are always on-policy whatever max_staleness allows: one
/// process cannot sample and train at once, and sampling early would only make the rollouts older. It samples on
/// <paramref name="compute"/>, the thread of the trainer's other libtorch work.
/// </summary>
public sealed class LocalRolloutSource(Sampler sampler, Func<long> policyVersion, Model.ComputeThread compute) : IRolloutSource
{
    private readonly Dictionary<int, RolloutRequest> _submitted = [];

    public Task SubmitAsync(RolloutRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        _submitted.Add(request.Step, request);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Rollout>> CollectAsync(int step, CancellationToken cancellationToken)
    {
        if (!_submitted.Remove(step, out var request))
        {
            throw new InvalidOperationException($"step {step} was collected before it was submitted");
        }

        cancellationToken.ThrowIfCancellationRequested();
        return compute.RunAsync(() => Sample(sampler, request, policyVersion()));
    }

    /// <summary>The rollouts of <paramref name="request"/> from <paramref name="sampler"/>'s model, of version <paramref name="version"/>.</summary>
    public static IReadOnlyList<Rollout> Sample(Sampler sampler, RolloutRequest request, long version)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(request);
        // Each prompt repeated G times, consecutively: groups stay contiguous as the advantages expect.
        var g = request.NumGenerations;
        var expanded = request.Prompts.SelectMany(p => Enumerable.Repeat(p.PromptIds, g)).ToArray();
        var sequences = sampler.Generate(expanded, request.Sampling);
        return sequences.Select((s, i) => new Rollout(request.Prompts[i / g].Index, s, version)).ToArray();
    }
}
