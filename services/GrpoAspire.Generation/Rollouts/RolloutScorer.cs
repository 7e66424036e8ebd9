using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Generation.Rollouts;

/// <summary>
/// Decodes sampled jobs and scores them in one <c>RewardService.Score</c> call, giving the scored groups the
/// trainer reads from the rollout stream.
/// </summary>
internal sealed class RolloutScorer(RewardService.RewardServiceClient rewards, ILogger<RolloutScorer> logger)
{
    /// <summary>Short unary call: a deadline, never a retry of a call that may have been served.</summary>
    private static readonly TimeSpan ScoreDeadline = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Waits before each new try of a call the reward service refused as busy (<c>RESOURCE_EXHAUSTED</c>: its in-flight
    /// budget was full, so the call was never served); after the last, the error goes to the worker, whose jobs stay
    /// pending for a later try. Jittered so that replicas refused together do not come back together.
    /// </summary>
    private static readonly TimeSpan[] BusyBackoff = [TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    public async Task<IReadOnlyList<RolloutGroup>> ScoreAsync(
        IReadOnlyList<SampledJob> sampled, QwenTokenizer tokenizer, (string Incarnation, long Version) policy, string replica, double seconds,
        CancellationToken cancellationToken)
    {
        var groups = new List<RolloutGroup>(sampled.Count);
        foreach (var (job, sequences) in sampled.Select(s => (s.Job, s.Sequences)))
        {
            var request = new ScoreRequest();
            request.RewardFunctions.AddRange(job.Rewards);
            var group = new RolloutGroup
            {
                JobId = job.JobId, Step = job.Step, PromptIndex = job.PromptIndex, PolicyVersion = policy.Version,
                Incarnation = policy.Incarnation, Replica = replica, GenerationSeconds = seconds,
            };
            for (var i = 0; i < sequences.Count; i++)
            {
                var text = tokenizer.Decode(sequences[i].TokenIds, skipSpecialTokens: true);
                request.Completions.Add(new Completion { Id = $"{job.JobId}#{i}", Text = text, Record = job.Record });
                var sample = new ScoredSample { Text = text, FinishReason = RolloutSampling.WireName(sequences[i].FinishReason) };
                sample.TokenIds.AddRange(sequences[i].TokenIds);
                sample.Logprobs.AddRange(sequences[i].LogProbs);
                group.Samples.Add(sample);
            }

            ScoreResponse response;
            try
            {
                response = await ScoreAsync(request, job.JobId, cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
            {
                // The job itself is bad (e.g. a task the reward rejects): report it to the trainer instead of retrying forever.
                group.Error = $"reward service rejected job {job.JobId}: {e.Status.Detail}";
                groups.Add(group);
                continue;
            }

            if (response.Scores.Count != group.Samples.Count)
            {
                throw new InvalidOperationException($"reward service returned {response.Scores.Count} scores for {group.Samples.Count} completions");
            }

            for (var i = 0; i < response.Scores.Count; i++)
            {
                var score = response.Scores[i];
                group.Samples[i].Rewards.AddRange(score.Rewards);
                group.Samples[i].TotalReward = score.Total;
                group.Samples[i].Verdict = score.Verdict;
            }

            groups.Add(group);
        }

        return groups;
    }

    private async Task<ScoreResponse> ScoreAsync(ScoreRequest request, string jobId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await rewards.ScoreAsync(request, deadline: DateTime.UtcNow + ScoreDeadline, cancellationToken: cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && attempt < BusyBackoff.Length)
            {
                var delay = BusyBackoff[attempt] * (0.5 + Random.Shared.NextDouble());
                logger.LogWarning("reward service refused job {Job} ({Detail}); try {Attempt} of {Tries} in {Delay:F1} s",
                    jobId, e.Status.Detail, attempt + 2, BusyBackoff.Length + 1, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }
}
