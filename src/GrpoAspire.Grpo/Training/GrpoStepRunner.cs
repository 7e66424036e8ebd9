using System.Diagnostics;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Math;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Qwen2;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Everything one GRPO step needs besides its rollouts. <paramref name="Replicas"/>: the policy's flat parameter buffers and
/// its data-parallel copies, master (<paramref name="Policy"/>) first (<see cref="PolicyReplicas.Single"/> for the policy
/// alone). <paramref name="Optimizer"/> steps their flat parameters, through float32 masters or not, sharded over the
/// replicas or not.
/// </summary>
public sealed record GrpoStepContext(
    Qwen2ForCausalLM Policy,
    Qwen2ForCausalLM? Reference,
    PolicyOptimizer Optimizer,
    GrpoRecipe Recipe,
    Func<PromptJob, string, int[], RewardBreakdown> Score,
    Func<IReadOnlyList<int>, string> Decode,
    int PadTokenId,
    PolicyReplicas Replicas);

/// <summary>The result of a step: its metrics and the scored completions (for samples and logs).</summary>
public sealed record StepResult(StepMetrics Metrics, IReadOnlyList<ScoredCompletion> Completions);

/// <summary>
/// The update of one GRPO step from its rollouts, in the order of the algorithm: score -> advantages -> old and reference
/// log-probs -> policy update(s). The policy being trained has version <c>step</c> (the weights after <c>step</c>
/// updates); rollouts of older versions are corrected for in the loss (<see cref="GrpoLoss"/>).
/// </summary>
public static class GrpoStepRunner
{
    public static StepResult Run(
        GrpoStepContext context, int step, IReadOnlyList<PromptJob> prompts, IReadOnlyList<Rollout> rollouts, double learningRate)
    {
        var recipe = context.Recipe;
        var watch = Stopwatch.StartNew();

        // 1. Score (unless the generation service already did, through the reward service).
        var completions = Score(context, step, prompts, rollouts);
        var scoreSeconds = watch.Elapsed.TotalSeconds;

        // 2. Advantages over each group of G.
        using var rewards = tensor(completions.Select(c => (float)c.Reward.Total).ToArray());
        using var advantages = Advantages.Compute(rewards, recipe.NumGenerations, recipe.ScaleRewards);

        // 3-4. Old / reference log-probs and the update, micro-batch by micro-batch.
        UpdateSummary update;
        using (TrainingTelemetry.Source.StartActivity("trainer.optimize"))
        {
            update = PolicyUpdate.Run(context, prompts, completions, advantages, learningRate);
        }

        var metrics = StepMetricsBuilder.Build(step, completions, recipe, update, learningRate, trainedVersion: step) with
        {
            ScoreSeconds = scoreSeconds,
            LogProbSeconds = update.LogProbSeconds,
            OptimizeSeconds = update.OptimizeSeconds,
        };
        return new StepResult(metrics, completions);
    }

    private static ScoredCompletion[] Score(GrpoStepContext context, int step, IReadOnlyList<PromptJob> prompts, IReadOnlyList<Rollout> rollouts)
    {
        var byIndex = prompts.ToDictionary(p => p.Index);
        var oldest = step - context.Recipe.MaxStaleness;
        return rollouts.Select(g =>
        {
            if (g.PolicyVersion < oldest || g.PolicyVersion > step)
            {
                throw new InvalidOperationException(
                    $"step {step + 1}: a rollout of prompt {g.PromptIndex} was sampled by policy version {g.PolicyVersion}; "
                    + $"training version {step} with max_staleness {context.Recipe.MaxStaleness} takes versions {System.Math.Max(0, oldest)}..{step}");
            }

            var text = g.Text ?? context.Decode(g.Sequence.TokenIds);
            var reward = g.Reward ?? context.Score(byIndex[g.PromptIndex], text, g.Sequence.TokenIds);
            return new ScoredCompletion(g.PromptIndex, g.Sequence.TokenIds, g.Sequence.LogProbs, g.Sequence.FinishReason, text, reward, g.PolicyVersion);
        }).ToArray();
    }
}
