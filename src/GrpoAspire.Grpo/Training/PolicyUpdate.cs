using GrpoAspire.Grpo.Math;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>Averages of what the loss reported over the micro-batches of a step, and where the update's time went.</summary>
public sealed record UpdateSummary(double Loss, double Kl, double ClipRatioLow, double ClipRatioHigh, double ClipRatioRegion, double GradNorm)
{
    /// <summary>Seconds of the no-grad reference (and old-policy) log-prob passes.</summary>
    public double LogProbSeconds { get; init; }

    /// <summary>Seconds of forward, backward, gradient reduction, clipping and optimizer steps.</summary>
    public double OptimizeSeconds { get; init; }

    /// <summary>The sampler against the proximal policy over the rows that were run; null when none was.</summary>
    public SamplerMetrics? Sampler { get; init; }
}

/// <summary>
/// The optimization part of a GRPO step. Micro-batches are PerDeviceTrainBatchSize prompts x G completions; the
/// loss of each is divided by the number of micro-batches (gradient accumulation). With num_iterations (mu) > 1
/// the same rollouts give mu optimizer steps against the log-probs recorded before the first (TRL's old logps).
/// With beta = 0, rows of advantage 0 (groups whose rewards are all equal) are not run through the model: they cannot
/// move the loss, and the normalization still counts them, so the update is the same, for less compute.
/// With several replicas (data_parallel_devices) micro-batch i runs on replica i mod N and the gradients are summed
/// before the optimizer step (<see cref="PolicyOptimizer"/>); the normalization does not change.
/// </summary>
internal static class PolicyUpdate
{
    public static UpdateSummary Run(
        GrpoStepContext context, IReadOnlyList<PromptJob> prompts, IReadOnlyList<ScoredCompletion> completions,
        Tensor advantages, double learningRate, bool skipZeroAdvantage = true)
    {
        Model.TorchRuntime.UseConfiguredThreads();
        var recipe = context.Recipe;
        var replicas = context.Replicas;
        if (!ReferenceEquals(replicas.Policies[0], context.Policy))
        {
            throw new ArgumentException("the step's policy must be its replicas' master", nameof(context));
        }

        var promptIds = prompts.ToDictionary(p => p.Index, p => p.PromptIds);
        var advantageValues = advantages.to(ScalarType.Float32).cpu().data<float>().ToArray();
        var plans = Plan(recipe, completions, advantageValues, skipZeroAdvantage && CanSkipZeroAdvantage(recipe));
        var micro = new MicroBatch[plans.Count];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            // Micro-batch i is trained by replica i mod N, which also computes its old and reference log-probs.
            replicas.ForEach(replica =>
            {
                for (var i = replica; i < plans.Count; i += replicas.Count)
                {
                    micro[i] = Prepare(context, replicas, replica, plans[i], completions, promptIds, advantageValues);
                }
            });
            var options = new GrpoLossOptions
            {
                Beta = recipe.Beta,
                EpsilonLow = recipe.Epsilon,
                EpsilonHigh = recipe.EffectiveEpsilonHigh,
                LossType = recipe.LossType,
                MaxCompletionLength = recipe.MaxCompletionLength,
                ImportanceSamplingCap = recipe.VllmImportanceSamplingCorrection ? recipe.VllmImportanceSamplingCap : null,
                GlobalActiveTokens = plans.Sum(m => (double)m.ActiveTokens) / plans.Count,
            };
            Synchronize(replicas);
            var logProbSeconds = watch.Elapsed.TotalSeconds;
            watch.Restart();
            var summary = Optimize(context, replicas, micro, options, learningRate);
            Synchronize(replicas);
            return summary with { LogProbSeconds = logProbSeconds, OptimizeSeconds = watch.Elapsed.TotalSeconds };
        }
        finally
        {
            foreach (var m in micro)
            {
                m?.Batch?.Dispose();
                m?.Advantages?.Dispose();
                m?.Old?.Dispose();
                m?.Ref?.Dispose();
            }
        }
    }

    /// <summary>Waits for the replicas' queued device work, so that a phase's time is its own (CUDA runs asynchronously).</summary>
    private static void Synchronize(PolicyReplicas replicas)
    {
        foreach (var device in replicas.Policies.Select(p => p.OutputWeight.device).Where(d => d.type == DeviceType.CUDA).DistinctBy(d => d.index))
        {
            cuda.synchronize(device);
        }
    }

    /// <summary>
    /// Whether rows of advantage 0 can be left out of the update without changing it: with no KL term a row's
    /// per-token loss is -min(r A, clip(r) A), exactly 0 with its gradient when A = 0, whatever the ratio r, so also in
    /// the later passes of num_iterations > 1. (The clip-ratio metrics then count the rows that were run.)
    /// </summary>
    public static bool CanSkipZeroAdvantage(Recipes.GrpoRecipe recipe) => recipe.Beta == 0;

    /// <summary>Completion tokens a row contributes to the loss's normalization (see <see cref="TrainingBatch"/>'s mask).</summary>
    public static int ActiveTokens(ScoredCompletion completion, bool maskTruncated) =>
        maskTruncated && completion.FinishReason == Model.Sampling.FinishReason.Length ? 0 : completion.TokenIds.Length;

    /// <summary>A micro-batch before any tensor exists: the rows to run, and the row count and active tokens of its whole slice.</summary>
    private sealed record MicroPlan(int[] Rows, int Count, int ActiveTokens);

    /// <summary>
    /// One micro-batch: the rows that can move the loss (Batch null when none can), with the row count and active
    /// tokens of the whole slice it stands for, which the loss divides by.
    /// </summary>
    private sealed record MicroBatch(TrainingBatch? Batch, Tensor? Advantages, Tensor? Old, Tensor? Ref, int Rows, int ActiveTokens);

    private static List<MicroPlan> Plan(
        Recipes.GrpoRecipe recipe, IReadOnlyList<ScoredCompletion> completions, float[] advantageValues, bool skipIdle)
    {
        var microSize = System.Math.Max(1, recipe.PerDeviceTrainBatchSize) * recipe.NumGenerations;
        var plans = new List<MicroPlan>();
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

            plans.Add(new MicroPlan(rows, count, activeTokens));
        }

        return plans;
    }

    /// <summary>The tensors of one micro-batch on <paramref name="replica"/>'s device, with its old and reference log-probs.</summary>
    private static MicroBatch Prepare(
        GrpoStepContext context, PolicyReplicas replicas, int replica, MicroPlan plan, IReadOnlyList<ScoredCompletion> completions,
        Dictionary<int, IReadOnlyList<int>> promptIds, float[] advantageValues)
    {
        var recipe = context.Recipe;
        if (plan.Rows.Length == 0)
        {
            return new MicroBatch(null, null, null, null, plan.Count, plan.ActiveTokens);
        }

        var policy = replicas.Policies[replica];
        var device = policy.OutputWeight.device;
        var slice = plan.Rows.Select(i => completions[i]).ToArray();
        var batch = TrainingBatch.Build(
            slice.Select(c => promptIds[c.PromptIndex]).ToArray(), slice, context.PadTokenId, recipe.MaskTruncatedCompletions, device);
        var adv = tensor(plan.Rows.Select(i => advantageValues[i]).ToArray(), dtype: ScalarType.Float32).to(device).DetachFromDisposeScope();
        Tensor? old = null, reference = null;
        using (no_grad())
        {
            if (recipe.NumIterations > 1)
            {
                policy.eval();
                old = PolicyLogProbs.Compute(policy, batch, recipe.Temperature).DetachFromDisposeScope();
            }

            if (recipe.Beta != 0 && replicas.References[replica] is { } referenceModel)
            {
                reference = PolicyLogProbs.Compute(referenceModel, batch, recipe.Temperature).DetachFromDisposeScope();
            }
        }

        return new MicroBatch(batch, adv, old, reference, plan.Count, plan.ActiveTokens);
    }

    private static UpdateSummary Optimize(
        GrpoStepContext context, PolicyReplicas replicas, MicroBatch[] micro, GrpoLossOptions options, double learningRate)
    {
        var recipe = context.Recipe;
        context.Optimizer.SetLearningRate(learningRate);

        // Per micro-batch, so that the sums below run in micro-batch order whatever replica computed them.
        var losses = new double[micro.Length];
        var lossMetrics = new LossMetrics?[micro.Length];
        double loss = 0, kl = 0, low = 0, high = 0, region = 0, gradNorm = 0;
        var passes = 0;
        var sampler = new SamplerMetricsSum();
        for (var iteration = 0; iteration < recipe.NumIterations; iteration++)
        {
            // Zeroed in place, one op per replica: backward adds into the flat gradients.
            replicas.ZeroGradients();
            // In rounds of one micro-batch per replica (replica r takes r, r + N, r + 2N, ... as before), so that between
            // rounds no backward is in flight anywhere and what the engine's threads were handed can be freed.
            for (var first = 0; first < micro.Length; first += replicas.Count)
            {
                replicas.ForEach(replica =>
                {
                    var i = first + replica;
                    if (i < micro.Length)
                    {
                        var model = replicas.Policies[replica];
                        model.train();
                        (losses[i], lossMetrics[i]) = Backward(model, micro[i], micro.Length, options, recipe.Temperature);
                    }
                });
                EngineHandles.Release(replicas.Policies[0].OutputWeight.device);
            }
            for (var i = 0; i < micro.Length; i++)
            {
                passes++;
                if (lossMetrics[i] is not { } metrics)
                {
                    continue; // every row had advantage 0: loss 0, gradient 0, nothing clipped, no KL term
                }

                loss += losses[i];
                (kl, low, high, region) = (kl + metrics.MeanKl, low + metrics.ClipRatioLow, high + metrics.ClipRatioHigh, region + metrics.ClipRatioRegion);
                sampler.Add(metrics.Sampler);
            }

            // A parameter whose storage or gradient was replaced would silently stop training: host-side pointer checks.
            replicas.EnsureIntact();

            // The summed gradients are clipped and applied (in float32 through masters, and on each replica's shard
            // when the optimizer is sharded), and every replica gets the new weights: a few flat ops per replica.
            using var norm = context.Optimizer.Step(recipe.MaxGradNorm);
            gradNorm += norm?.item<float>() ?? 0;
        }

        replicas.ZeroGradients();
        return new UpdateSummary(loss / passes, kl / passes, low / passes, high / passes, region / passes, gradNorm / recipe.NumIterations)
        {
            Sampler = sampler.Result(),
        };
    }

    /// <summary>
    /// Forward and backward of one micro-batch, its loss divided by the step's micro-batch count (gradient accumulation:
    /// the same division whichever replica runs it, so the reduced sum is the one-device gradient).
    /// </summary>
    private static (double Loss, LossMetrics? Metrics) Backward(
        Qwen2ForCausalLM model, MicroBatch m, int microBatches, GrpoLossOptions options, double temperature)
    {
        if (m.Batch is not { } batch)
        {
            return (0, null);
        }

        using var scope = NewDisposeScope();
        var logps = PolicyLogProbs.Compute(model, batch, temperature);
        var (microLoss, metrics) = GrpoLoss.Compute(
            logps, m.Old, m.Ref, m.Advantages!, batch.CompletionMask,
            options with { Sequences = m.Rows, ActiveTokens = m.ActiveTokens }, batch.SamplingLogps);
        (microLoss / microBatches).backward();
        return (microLoss.item<float>(), metrics);
    }
}
