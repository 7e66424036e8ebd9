using System.Diagnostics;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Trainer.Training;

/// <summary>
/// Rollouts from the generation replicas: one job per prompt into the run's job stream, then the scored groups
/// collected from the rollout stream (first group per job; duplicates from a reclaimed job are dropped).
/// </summary>
internal sealed class RemoteRolloutSource(
    RolloutJobQueue jobs,
    RolloutCollector collector,
    GrpoRecipe recipe,
    Func<long> policyVersion,
    int staleness,
    TimeSpan timeout,
    CancellationToken cancellationToken) : IRolloutSource
{
    public IReadOnlyList<Rollout> Generate(IReadOnlyList<PromptJob> prompts, int numGenerations, SamplingParams sampling, int step)
    {
        var stepNumber = step + 1;
        var version = policyVersion();
        var traceparent = Activity.Current?.Id ?? string.Empty;
        var outgoing = prompts.Select(p => Job(p, stepNumber, numGenerations, sampling, Math.Max(0, version - staleness), traceparent)).ToArray();
        jobs.EnqueueAsync(outgoing, cancellationToken).GetAwaiter().GetResult();
        var expected = outgoing.Select(j => j.JobId).ToHashSet();
        var groups = collector.CollectAsync(stepNumber, expected, timeout, cancellationToken).GetAwaiter().GetResult();
        var byJob = groups.ToDictionary(g => g.JobId);
        var rollouts = new List<Rollout>(prompts.Count * numGenerations);
        foreach (var (prompt, job) in prompts.Zip(outgoing))
        {
            var group = byJob[job.JobId];
            if (group.Error.Length > 0)
            {
                throw new InvalidOperationException($"step {stepNumber}: {group.Error}");
            }

            if (group.Samples.Count != numGenerations)
            {
                throw new InvalidOperationException($"step {stepNumber}: job {job.JobId} came back with {group.Samples.Count} completions, not {numGenerations}");
            }

            foreach (var sample in group.Samples)
            {
                var sequence = new GeneratedSequence(sample.TokenIds.ToArray(), sample.Logprobs.ToArray(), Finish(sample.FinishReason));
                rollouts.Add(new Rollout(prompt.Index, sequence, group.PolicyVersion, Breakdown(sample), sample.Text));
            }
        }

        return rollouts;
    }

    private RolloutJob Job(PromptJob prompt, int step, int numGenerations, SamplingParams sampling, long minVersion, string traceparent)
    {
        var job = new RolloutJob
        {
            JobId = $"{step}/{prompt.Index}", Step = step, PromptIndex = prompt.Index, NumGenerations = numGenerations,
            Target = prompt.Task.Target, MinPolicyVersion = minVersion, Traceparent = traceparent,
            Sampling = new SamplingSettings
            {
                Temperature = sampling.Temperature, TopP = sampling.TopP, TopK = sampling.TopK, MaxNewTokens = sampling.MaxNewTokens,
                Seed = unchecked((ulong)(sampling.Seed + prompt.Index)),
            },
        };
        job.PromptTokenIds.AddRange(prompt.PromptIds);
        job.Sampling.EosTokenIds.AddRange(sampling.EosTokenIds);
        job.Nums.AddRange(prompt.Task.Nums);
        job.Rewards.AddRange(recipe.Rewards.Select(r => new Contracts.V1.RewardWeight { Name = r.Function.ToWireName(), Weight = r.Weight }));
        return job;
    }

    private static FinishReason Finish(string name) => name switch
    {
        "eos" => FinishReason.Eos,
        "stop" => FinishReason.Stop,
        "length" => FinishReason.Length,
        _ => throw new InvalidOperationException($"unknown finish reason '{name}' in a rollout; valid: eos, stop, length"),
    };

    private static RewardBreakdown Breakdown(ScoredSample sample) => new(
        sample.Rewards.Select(r => new Countdown.Rewards.RewardValue(RewardFunctionNames.Parse(r.Name), r.Value)).ToArray(),
        sample.TotalReward,
        EquationVerdictNames.ParseWireName(sample.EquationVerdict));
}
