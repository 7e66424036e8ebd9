using System.Diagnostics;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Trainer.Training;

/// <summary>
/// Rollouts from the generation replicas: a step's request becomes one job per prompt in the run's job stream, then its
/// scored groups are collected from the rollout stream (first group per job; duplicates from a reclaimed job are
/// dropped; groups of steps asked for ahead wait in the collector for their own step; jobs lost with Redis's data are
/// enqueued again). Job ids carry the trainer's incarnation, so the groups of jobs a previous trainer process asked for
/// never count for this one's steps, and each group must have been sampled with this incarnation's weights.
/// </summary>
internal sealed class RemoteRolloutSource(
    JobLedger ledger, RolloutCollector collector, GrpoRecipe recipe, string incarnation, TimeSpan timeout, CoordinationOptions coordination, ILogger logger)
    : IRolloutSource
{
    private readonly Dictionary<int, (RolloutRequest Request, RolloutJob[] Jobs)> _submitted = [];

    public async Task SubmitAsync(RolloutRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var traceparent = Activity.Current?.Id ?? string.Empty;
        var outgoing = request.Prompts.Select(p => Job(p, request, traceparent)).ToArray();
        await RedisOutage.RetryAsync(() => ledger.EnqueueAsync(outgoing, cancellationToken), coordination, $"enqueueing the jobs of step {request.Step}", logger, cancellationToken);
        _submitted.Add(request.Step, (request, outgoing));
    }

    public async Task<IReadOnlyList<Rollout>> CollectAsync(int step, CancellationToken cancellationToken)
    {
        if (!_submitted.Remove(step, out var submitted))
        {
            throw new InvalidOperationException($"step {step} was collected before it was submitted");
        }

        var (request, outgoing) = submitted;
        var groups = await collector.CollectAsync(step, outgoing.Select(j => j.JobId).ToHashSet(), timeout, cancellationToken, ledger);
        var byJob = groups.ToDictionary(g => g.JobId);
        var rollouts = new List<Rollout>(request.Prompts.Count * request.NumGenerations);
        foreach (var (prompt, job) in request.Prompts.Zip(outgoing))
        {
            var group = byJob[job.JobId];
            if (group.Error.Length > 0)
            {
                throw new InvalidOperationException($"step {step}: {group.Error}");
            }

            if (group.Incarnation != incarnation)
            {
                throw new InvalidOperationException($"step {step}: job {job.JobId} was sampled with the weights of trainer incarnation '{group.Incarnation}', not this trainer's '{incarnation}'");
            }

            if (group.Samples.Count != request.NumGenerations)
            {
                throw new InvalidOperationException($"step {step}: job {job.JobId} came back with {group.Samples.Count} completions, not {request.NumGenerations}");
            }

            foreach (var sample in group.Samples)
            {
                var sequence = new GeneratedSequence(sample.TokenIds.ToArray(), sample.Logprobs.ToArray(), Finish(sample.FinishReason));
                rollouts.Add(new Rollout(prompt.Index, sequence, group.PolicyVersion, Breakdown(sample), sample.Text));
            }
        }

        return rollouts;
    }

    private RolloutJob Job(PromptJob prompt, RolloutRequest request, string traceparent)
    {
        var sampling = request.Sampling;
        var job = new RolloutJob
        {
            JobId = $"{incarnation}/{request.Step}/{prompt.Index}", Incarnation = incarnation, Step = request.Step, PromptIndex = prompt.Index, NumGenerations = request.NumGenerations,
            Record = new Contracts.V1.TaskRecord { Task = prompt.Record.Task, FieldsJson = prompt.Record.Json }, MinPolicyVersion = request.MinPolicyVersion, Traceparent = traceparent,
            Sampling = new SamplingSettings
            {
                Temperature = sampling.Temperature, TopP = sampling.TopP, TopK = sampling.TopK, MaxNewTokens = sampling.MaxNewTokens,
                Seed = unchecked((ulong)(sampling.Seed + prompt.Index)),
            },
        };
        job.PromptTokenIds.AddRange(prompt.PromptIds);
        job.Sampling.EosTokenIds.AddRange(sampling.EosTokenIds);
        job.Rewards.AddRange(recipe.EffectiveRewards.Select(r => new Contracts.V1.RewardWeight { Name = r.Function, Weight = r.Weight }));
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
        sample.Rewards.Select(r => new Tasks.RewardValue(r.Name, r.Value)).ToArray(),
        sample.TotalReward,
        sample.Verdict);
}
