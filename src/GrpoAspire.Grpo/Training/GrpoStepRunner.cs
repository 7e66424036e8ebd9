using System.Diagnostics;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Grpo.Math;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Everything one GRPO step needs besides the prompts. <paramref name="Replicas"/>: the policy's flat parameter buffers and
/// its data-parallel copies, master (<paramref name="Policy"/>) first (<see cref="PolicyReplicas.Single"/> for the policy
/// alone). <paramref name="Optimizer"/> steps <paramref name="Master"/>'s flat float32 weights when there are masters, else
/// the master replica's flat parameter (<see cref="FlatParameters.Parameter"/>).
/// </summary>
public sealed record GrpoStepContext(
    Qwen2ForCausalLM Policy,
    Qwen2ForCausalLM? Reference,
    optim.Optimizer Optimizer,
    GrpoRecipe Recipe,
    Func<PromptJob, string, int[], RewardBreakdown> Score,
    IRolloutSource Rollouts,
    Func<IReadOnlyList<int>, string> Decode,
    int PadTokenId,
    IReadOnlyList<int> EosTokenIds,
    PolicyReplicas Replicas,
    MasterWeights? Master = null);

/// <summary>The result of a step: its metrics and the scored completions (for samples and logs).</summary>
public sealed record StepResult(StepMetrics Metrics, IReadOnlyList<ScoredCompletion> Completions);

/// <summary>
/// One GRPO step, in the order of the algorithm: generate -> score -> advantages -> old and reference
/// log-probs -> policy update(s).
/// </summary>
public static class GrpoStepRunner
{
    public static StepResult Run(GrpoStepContext context, int step, IReadOnlyList<PromptJob> prompts, double learningRate)
    {
        var recipe = context.Recipe;
        var watch = Stopwatch.StartNew();

        // 1. Generate G completions per prompt with the current policy.
        context.Policy.eval();
        var sampling = new SamplingParams
        {
            Temperature = recipe.Temperature,
            TopP = recipe.TopP,
            TopK = recipe.TopK,
            MaxNewTokens = recipe.MaxCompletionLength,
            EosTokenIds = context.EosTokenIds,
            Seed = recipe.Seed + (1_000_003L * step),
        };
        IReadOnlyList<Rollout> generated;
        using (TrainingTelemetry.Source.StartActivity("trainer.generate"))
        {
            generated = context.Rollouts.Generate(prompts, recipe.NumGenerations, sampling, step);
        }

        var generationSeconds = watch.Elapsed.TotalSeconds;
        var scoring = Stopwatch.StartNew();

        // 2. Score (unless the generation service already did, through the reward service).
        var byIndex = prompts.ToDictionary(p => p.Index);
        var completions = generated.Select(g =>
        {
            var text = g.Text ?? context.Decode(g.Sequence.TokenIds);
            var reward = g.Reward ?? context.Score(byIndex[g.PromptIndex], text, g.Sequence.TokenIds);
            return new ScoredCompletion(g.PromptIndex, g.Sequence.TokenIds, g.Sequence.LogProbs, g.Sequence.FinishReason, text, reward, g.PolicyVersion);
        }).ToArray();
        var scoreSeconds = scoring.Elapsed.TotalSeconds;

        // 3. Advantages over each group of G.
        using var rewards = tensor(completions.Select(c => (float)c.Reward.Total).ToArray());
        using var advantages = Advantages.Compute(rewards, recipe.NumGenerations, recipe.ScaleRewards);

        // 4-5. Old / reference log-probs and the update, micro-batch by micro-batch.
        UpdateSummary update;
        using (TrainingTelemetry.Source.StartActivity("trainer.optimize"))
        {
            update = PolicyUpdate.Run(context, prompts, completions, advantages, learningRate);
        }

        watch.Stop();

        var tokens = completions.Sum(c => c.TokenIds.Length) + (prompts.Sum(p => p.PromptIds.Count) * recipe.NumGenerations);
        var metrics = StepMetricsBuilder.Build(step, completions, recipe, update, learningRate) with
        {
            StepSeconds = watch.Elapsed.TotalSeconds,
            GenerationSeconds = generationSeconds,
            ScoreSeconds = scoreSeconds,
            LogProbSeconds = update.LogProbSeconds,
            OptimizeSeconds = update.OptimizeSeconds,
            TokensPerSecond = tokens / System.Math.Max(1e-9, watch.Elapsed.TotalSeconds),
        };
        return new StepResult(metrics, completions);
    }
}
