using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Generation.Rollouts;

/// <summary>
/// Decodes sampled jobs and scores them in one <c>RewardService.Score</c> call, giving the scored groups the
/// trainer reads from the rollout stream.
/// </summary>
internal sealed class RolloutScorer(RewardService.RewardServiceClient rewards)
{
    /// <summary>Short unary call: a deadline, never a retry of a call that may have been served.</summary>
    private static readonly TimeSpan ScoreDeadline = TimeSpan.FromMinutes(2);

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
                var completion = new Completion { Id = $"{job.JobId}#{i}", Text = text, Target = job.Target };
                completion.Nums.AddRange(job.Nums);
                request.Completions.Add(completion);
                var sample = new ScoredSample { Text = text, FinishReason = RolloutSampling.WireName(sequences[i].FinishReason) };
                sample.TokenIds.AddRange(sequences[i].TokenIds);
                sample.Logprobs.AddRange(sequences[i].LogProbs);
                group.Samples.Add(sample);
            }

            ScoreResponse response;
            try
            {
                response = await rewards.ScoreAsync(request, deadline: DateTime.UtcNow + ScoreDeadline, cancellationToken: cancellationToken);
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
                group.Samples[i].EquationVerdict = score.EquationVerdict;
            }

            groups.Add(group);
        }

        return groups;
    }
}
