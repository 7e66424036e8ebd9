using GrpoAspire.Grpo.Math;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>Averages of what the loss reported over the micro-batches of a step, and where the update's time went.</summary>
public sealed record UpdateSummary(double Loss, double Kl, double ClipRatioLow, double ClipRatioHigh, double ClipRatioRegion, double GradNorm)
{
    /// <summary>Seconds of the no-grad reference (and old-policy) log-prob passes.</summary>
    public double LogProbSeconds { get; init; }

    /// <summary>Seconds of forward, backward, clipping and optimizer steps.</summary>
    public double OptimizeSeconds { get; init; }
}

/// <summary>
/// The optimization part of a GRPO step. Micro-batches are PerDeviceTrainBatchSize prompts x G completions; the
/// loss of each is divided by the number of micro-batches (gradient accumulation). With num_iterations (mu) > 1
/// the same rollouts give mu optimizer steps against the log-probs recorded before the first (TRL's old logps).
/// With mu = 1 and beta = 0, rows of advantage 0 (groups whose rewards are all equal) are not run through the model:
/// they cannot move the loss, and the normalization still counts them, so the update is the same, for less compute.
/// </summary>
internal static class PolicyUpdate
{
    public static UpdateSummary Run(
        GrpoStepContext context, IReadOnlyList<PromptJob> prompts, IReadOnlyList<ScoredCompletion> completions,
        Tensor advantages, double learningRate, bool skipZeroAdvantage = true)
    {
        Model.TorchRuntime.UseConfiguredThreads();
        var recipe = context.Recipe;
        var device = context.Policy.OutputWeight.device;
        var g = recipe.NumGenerations;
        var promptIds = prompts.ToDictionary(p => p.Index, p => p.PromptIds);
        var microSize = System.Math.Max(1, recipe.PerDeviceTrainBatchSize) * g;
        var advantageValues = advantages.to(ScalarType.Float32).cpu().data<float>().ToArray();
        var skipIdle = skipZeroAdvantage && CanSkipZeroAdvantage(recipe);
        var micro = new List<MicroBatch>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            for (var start = 0; start < completions.Count; start += microSize)
            {
                var count = System.Math.Min(microSize, completions.Count - start);
                var rows = Enumerable.Range(start, count).ToArray();
                var activeTokens = rows.Sum(i => ActiveTokens(completions[i], recipe.MaskTruncatedCompletions));
                if (skipIdle)
                {
                    // A row whose advantage is 0 adds exactly 0 to the loss and its gradient when the update is
                    // on-policy with no KL term: only its share of the normalization is kept (Sequences, ActiveTokens).
                    rows = rows.Where(i => advantageValues[i] != 0f).ToArray();
                }

                if (rows.Length == 0)
                {
                    micro.Add(new MicroBatch(null, null, null, null, count, activeTokens));
                    continue;
                }

                var slice = rows.Select(i => completions[i]).ToArray();
                var batch = TrainingBatch.Build(
                    slice.Select(c => promptIds[c.PromptIndex]).ToArray(), slice, context.PadTokenId, recipe.MaskTruncatedCompletions, device);
                var adv = tensor(rows.Select(i => advantageValues[i]).ToArray(), dtype: ScalarType.Float32).to(device).DetachFromDisposeScope();
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

                micro.Add(new MicroBatch(batch, adv, old, reference, count, activeTokens));
            }

            var options = new GrpoLossOptions
            {
                Beta = recipe.Beta,
                EpsilonLow = recipe.Epsilon,
                EpsilonHigh = recipe.EffectiveEpsilonHigh,
                LossType = recipe.LossType,
                MaxCompletionLength = recipe.MaxCompletionLength,
                GlobalActiveTokens = micro.Sum(m => (double)m.ActiveTokens) / micro.Count,
            };
            Synchronize(device);
            var logProbSeconds = watch.Elapsed.TotalSeconds;
            watch.Restart();
            var summary = Optimize(context, micro, options, learningRate);
            Synchronize(device);
            return summary with { LogProbSeconds = logProbSeconds, OptimizeSeconds = watch.Elapsed.TotalSeconds };
        }
        finally
        {
            foreach (var m in micro)
            {
                m.Batch?.Dispose();
                m.Advantages?.Dispose();
                m.Old?.Dispose();
                m.Ref?.Dispose();
            }
        }
    }

    /// <summary>Waits for the device's queued work, so that a phase's time is its own (CUDA runs asynchronously).</summary>
    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }

    /// <summary>
    /// Whether rows of advantage 0 can be left out of the update without changing it: one optimizer pass over fresh
    /// rollouts (ratio 1, no clipping) and no KL term, so such a row's per-token loss and gradient are exactly 0.
    /// </summary>
    public static bool CanSkipZeroAdvantage(Recipes.GrpoRecipe recipe) => recipe.Beta == 0 && recipe.NumIterations == 1;

    /// <summary>Completion tokens a row contributes to the loss's normalization (see <see cref="TrainingBatch"/>'s mask).</summary>
    public static int ActiveTokens(ScoredCompletion completion, bool maskTruncated) =>
        maskTruncated && completion.FinishReason == Model.Sampling.FinishReason.Length ? 0 : completion.TokenIds.Length;

    /// <summary>
    /// One micro-batch: the rows that can move the loss (Batch null when none can), with the row count and active
    /// tokens of the whole slice it stands for, which the loss divides by.
    /// </summary>
    private sealed record MicroBatch(TrainingBatch? Batch, Tensor? Advantages, Tensor? Old, Tensor? Ref, int Rows, int ActiveTokens);

    private static UpdateSummary Optimize(
        GrpoStepContext context, List<MicroBatch> micro, GrpoLossOptions options, double learningRate)
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
            foreach (var m in micro)
            {
                passes++;
                if (m.Batch is not { } batch)
                {
                    continue; // every row had advantage 0: loss 0, gradient 0, nothing clipped, no KL term
                }

                using var scope = NewDisposeScope();
                var logps = PolicyLogProbs.Compute(policy, batch, recipe.Temperature);
                var (microLoss, metrics) = GrpoLoss.Compute(
                    logps, m.Old, m.Ref, m.Advantages!, batch.CompletionMask,
                    options with { Sequences = m.Rows, ActiveTokens = m.ActiveTokens });
                (microLoss / micro.Count).backward();
                loss += microLoss.item<float>();
                (kl, low, high, region) = (kl + metrics.MeanKl, low + metrics.ClipRatioLow, high + metrics.ClipRatioHigh, region + metrics.ClipRatioRegion);
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
