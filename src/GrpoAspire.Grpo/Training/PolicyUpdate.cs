using GrpoAspire.Grpo.Math;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>Averages of what the loss reported over the micro-batches of a step.</summary>
public sealed record UpdateSummary(double Loss, double Kl, double ClipRatioLow, double ClipRatioHigh, double ClipRatioRegion, double GradNorm);

/// <summary>
/// The optimization part of a GRPO step. Micro-batches are PerDeviceTrainBatchSize prompts x G completions; the
/// loss of each is divided by the number of micro-batches (gradient accumulation). With num_iterations (mu) > 1
/// the same rollouts give mu optimizer steps against the log-probs recorded before the first (TRL's old logps).
/// </summary>
internal static class PolicyUpdate
{
    public static UpdateSummary Run(
        GrpoStepContext context, IReadOnlyList<PromptJob> prompts, IReadOnlyList<ScoredCompletion> completions,
        Tensor advantages, double learningRate)
    {
        var recipe = context.Recipe;
        var device = context.Policy.OutputWeight.device;
        var g = recipe.NumGenerations;
        var promptIds = prompts.ToDictionary(p => p.Index, p => p.PromptIds);
        var microSize = System.Math.Max(1, recipe.PerDeviceTrainBatchSize) * g;
        var micro = new List<(TrainingBatch Batch, Tensor Advantages, Tensor? Old, Tensor? Ref)>();
        try
        {
            for (var start = 0; start < completions.Count; start += microSize)
            {
                var slice = completions.Skip(start).Take(microSize).ToArray();
                var batch = TrainingBatch.Build(
                    slice.Select(c => promptIds[c.PromptIndex]).ToArray(), slice, context.PadTokenId, recipe.MaskTruncatedCompletions, device);
                var adv = advantages.narrow(0, start, slice.Length).to(device).DetachFromDisposeScope();
                Tensor? old = null, reference = null;
                using (no_grad())
                {
                    if (recipe.NumIterations > 1)
                    {
                        context.Policy.eval();
                        old = PolicyLogProbs.Compute(context.Policy, batch, recipe.Temperature).DetachFromDisposeScope();
                    }

                    if (recipe.Beta != 0 && context.Reference is { } referenceModel)
                    {
                        reference = PolicyLogProbs.Compute(referenceModel, batch, recipe.Temperature).DetachFromDisposeScope();
                    }
                }

                micro.Add((batch, adv, old, reference));
            }

            var activeTokens = micro.Sum(m => m.Batch.CompletionMask.sum().item<float>());
            var options = new GrpoLossOptions
            {
                Beta = recipe.Beta,
                EpsilonLow = recipe.Epsilon,
                EpsilonHigh = recipe.EffectiveEpsilonHigh,
                LossType = recipe.LossType,
                MaxCompletionLength = recipe.MaxCompletionLength,
                GlobalActiveTokens = activeTokens / micro.Count,
            };
            return Optimize(context, micro, options, learningRate);
        }
        finally
        {
            foreach (var (batch, adv, old, reference) in micro)
            {
                batch.Dispose();
                adv.Dispose();
                old?.Dispose();
                reference?.Dispose();
            }
        }
    }

    private static UpdateSummary Optimize(
        GrpoStepContext context, List<(TrainingBatch Batch, Tensor Advantages, Tensor? Old, Tensor? Ref)> micro,
        GrpoLossOptions options, double learningRate)
    {
        var recipe = context.Recipe;
        var policy = context.Policy;
        foreach (var group in context.Optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }

        double loss = 0, kl = 0, low = 0, high = 0, region = 0, gradNorm = 0;
        var passes = 0;
        policy.train();
        for (var iteration = 0; iteration < recipe.NumIterations; iteration++)
        {
            context.Optimizer.zero_grad();
            foreach (var (batch, adv, old, reference) in micro)
            {
                using var scope = NewDisposeScope();
                var logps = PolicyLogProbs.Compute(policy, batch, recipe.Temperature);
                var (microLoss, metrics) = GrpoLoss.Compute(logps, old, reference, adv, batch.CompletionMask, options);
                (microLoss / micro.Count).backward();
                loss += microLoss.item<float>();
                (kl, low, high, region) = (kl + metrics.MeanKl, low + metrics.ClipRatioLow, high + metrics.ClipRatioHigh, region + metrics.ClipRatioRegion);
                passes++;
            }

            gradNorm += recipe.MaxGradNorm > 0
                ? nn.utils.clip_grad_norm_(policy.parameters(), recipe.MaxGradNorm, 2.0)
                : 0.0;
            context.Optimizer.step();
        }

        context.Optimizer.zero_grad();
        return new UpdateSummary(loss / passes, kl / passes, low / passes, high / passes, region / passes, gradNorm / recipe.NumIterations);
    }
}
