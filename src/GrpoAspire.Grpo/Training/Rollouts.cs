using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Grpo.Training;

/// <summary>One prompt of a step: the task and its token ids (already truncated to max_prompt_length).</summary>
public sealed record PromptJob(int Index, CountdownTask Task, string PromptText, IReadOnlyList<int> PromptIds);

/// <summary>A sampled completion with its score.</summary>
public sealed record ScoredCompletion(
    int PromptIndex,
    int[] TokenIds,
    float[] SamplingLogProbs,
    FinishReason FinishReason,
    string Text,
    RewardBreakdown Reward,
    long PolicyVersion = 0);

/// <summary>
/// One sampled completion of a prompt. The generation service sends it scored (<paramref name="Reward"/>) and
/// decoded (<paramref name="Text"/>); the colocated source leaves both to the trainer.
/// </summary>
public sealed record Rollout(int PromptIndex, GeneratedSequence Sequence, long PolicyVersion = 0, RewardBreakdown? Reward = null, string? Text = null);

/// <summary>
/// Samples <c>numGenerations</c> completions per prompt (colocated sampler or the generation service), G
/// consecutive rollouts per prompt, prompts in the order given.
/// </summary>
public interface IRolloutSource
{
    IReadOnlyList<Rollout> Generate(IReadOnlyList<PromptJob> prompts, int numGenerations, SamplingParams sampling, int step);
}

/// <summary>The colocated rollout source: the trainer's own model and sampler (like TRL without vLLM).</summary>
public sealed class LocalRolloutSource(Sampler sampler) : IRolloutSource
{
    public IReadOnlyList<Rollout> Generate(IReadOnlyList<PromptJob> prompts, int numGenerations, SamplingParams sampling, int step)
    {
        // Each prompt repeated G times, consecutively: groups stay contiguous as the advantages expect.
        var expanded = prompts.SelectMany(p => Enumerable.Repeat(p.PromptIds, numGenerations)).ToArray();
        var sequences = sampler.Generate(expanded, sampling);
        return sequences.Select((s, i) => new Rollout(prompts[i / numGenerations].Index, s)).ToArray();
    }
}
