using GrpoAspire.Countdown;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Math;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

/// <summary>
/// Data parallel on CPU: three replicas on <c>cpu</c> must give the one-replica update. The only allowed difference is
/// the order of the float32 additions (micro-batch gradients summed per replica, then across replicas, instead of in
/// one running sum). The update is plain SGD (lr 0.5) so that the weights move by lr x the reduced gradient: a lost,
/// doubled or wrongly normalized micro-batch shows in proportion (1e-4 or more), which AdamW's sign-like first step
/// would partly hide (the trainer test covers AdamW).
/// </summary>
public sealed class DataParallelTests
{
    /// <summary>
    /// Bound on |3 replicas - 1 replica| over every weight. Measured on the 2-core CPU: at most 1.5e-8 (1 to 2 ulps of
    /// these weights, |w| &lt; 0.25), 0 when the master trains nothing; updates move weights by 3e-3 to 0.1.
    /// </summary>
    private const double Tolerance = 1e-7;

    private static Qwen2ForCausalLM TinyModel(long seed)
    {
        var config = new Qwen2Config
        {
            VocabSize = 32, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2,
            NumAttentionHeads = 4, NumKeyValueHeads = 2, TieWordEmbeddings = true, RopeThetaTopLevel = 10000,
        }.Validated();
        var model = new Qwen2ForCausalLM(config);
        model.InitializeWeights(seed);
        return model;
    }

    private static Qwen2ForCausalLM Reference()
    {
        var reference = TinyModel(seed: 21);
        foreach (var parameter in reference.parameters())
        {
            parameter.requires_grad = false;
        }

        return reference;
    }

    /// <summary>
    /// <paramref name="prompts"/> groups of 4 completions of varied lengths; the groups in <paramref name="idleGroups"/>
    /// have equal rewards (advantage 0: with beta 0 their micro-batch runs no backward at all).
    /// </summary>
    private static (IReadOnlyList<PromptJob> Prompts, ScoredCompletion[] Completions) Rollouts(int prompts, int[] idleGroups)
    {
        var jobs = Enumerable.Range(0, prompts)
            .Select(i => new PromptJob(i, CountdownDefinition.ToRecord(new CountdownTask([1, 2], 3)), "p", [1 + (i % 20), 2, 3 + (i % 5)])).ToArray();
        var random = new Random(prompts);
        var completions = Enumerable.Range(0, prompts * 4).Select(i =>
        {
            var tokens = Enumerable.Range(0, 2 + random.Next(7)).Select(_ => random.Next(1, 32)).ToArray();
            var reward = idleGroups.Contains(i / 4) ? 1.0 : random.Next(4);
            var finish = random.Next(5) == 0 ? FinishReason.Length : FinishReason.Stop;
            return new ScoredCompletion(i / 4, tokens, new float[tokens.Length], finish, "t",
                new RewardBreakdown([new RewardValue("equation", reward)], reward, "wrong_value"));
        }).ToArray();
        return (jobs, completions);
    }

    /// <summary>The weights after one PolicyUpdate with <paramref name="replicaCount"/> CPU replicas (master first).</summary>
    private static List<Dictionary<string, Tensor>> Update(GrpoRecipe recipe, int prompts, int[] idleGroups, int replicaCount, bool shard = false)
    {
        // The rollouts are made up, with no sampler log-probs to correct for.
        recipe = recipe with { VllmImportanceSamplingCorrection = false };
        var (jobs, completions) = Rollouts(prompts, idleGroups);
        using var rewards = tensor(completions.Select(c => (float)c.Reward.Total).ToArray());
        using var advantages = Advantages.Compute(rewards, recipe.NumGenerations, recipe.ScaleRewards);
        using var master = TinyModel(seed: 3);
        using var masterReference = recipe.Beta != 0 ? Reference() : null;
        var devices = Enumerable.Repeat(CPU, replicaCount).ToArray();
        using var replicas = PolicyReplicas.Create(master, masterReference, devices, _ => (TinyModel(seed: 99), recipe.Beta != 0 ? Reference() : null));
        using var optimizer = PolicyOptimizer.Create(replicas, masters: false, shard, p => optim.SGD([p], recipe.LearningRate));
        var context = new GrpoStepContext(
            master, masterReference, optimizer, recipe, (_, _, _) => throw new InvalidOperationException("rollouts are given"),
            ids => string.Join(' ', ids), PadTokenId: 0, replicas);
        var summary = PolicyUpdate.Run(context, jobs, completions, advantages, recipe.LearningRate);
        Assert.True(double.IsFinite(summary.Loss) && double.IsFinite(summary.GradNorm), $"loss {summary.Loss}, grad norm {summary.GradNorm}");
        return replicas.Policies.Select(p => p.named_parameters().ToDictionary(x => x.name, x => x.parameter.detach().clone())).ToList();
    }

    private static (double Largest, string Where) LargestDifference(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) =>
        a.Select(p => ((double)(p.Value - b[p.Key]).abs().max().item<float>(), p.Key)).MaxBy(x => x.Item1);

    [Theory]
    [InlineData(6, 0.0, 1, 0.0, new int[0])]      // 6 micro-batches, 2 per replica
    [InlineData(7, 0.0, 1, 0.0, new[] { 2 })]     // 7: not divisible by 3; replica 2's only micro-batch is idle
    [InlineData(4, 0.0, 1, 0.0, new[] { 0, 3 })]  // the master's micro-batches are both idle: its gradient comes from the others
    [InlineData(7, 0.04, 1, 0.0, new[] { 1 })]    // beta != 0: a reference model per replica
    [InlineData(5, 0.04, 2, 0.0, new int[0])]     // num_iterations 2: old log-probs on each replica, two steps and broadcasts
    [InlineData(5, 0.0, 1, 0.05, new int[0])]     // clipping the reduced gradient (its norm is well above 0.05)
    public void ThreeCpuReplicasGiveTheOneReplicaUpdate(int prompts, double beta, int iterations, double maxGradNorm, int[] idleGroups)
    {
        var recipe = new GrpoRecipe
        {
            NumGenerations = 4, PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = prompts, MaxCompletionLength = 8,
            Beta = beta, NumIterations = iterations, LearningRate = 0.5, MaxGradNorm = maxGradNorm, LossType = LossType.Grpo,
            MaskTruncatedCompletions = true,
        };
        var one = Update(recipe, prompts, idleGroups, replicaCount: 1)[0];
        using var initial = TinyModel(seed: 3);
        var moved = initial.named_parameters().Max(p => (one[p.name] - p.parameter).abs().max().item<float>());
        Assert.True(moved > 1e-3, $"the update moved no weight by more than {moved:g3}: the test would not see a lost micro-batch");
        foreach (var shard in new[] { false, true })
        {
            var three = Update(recipe, prompts, idleGroups, replicaCount: 3, shard);
            var (largest, where) = LargestDifference(one, three[0]);
            Assert.True(largest <= Tolerance, $"3 replicas (sharded: {shard}) differ from 1 by {largest:g3} in {where}");
            foreach (var replica in three.Skip(1))
            {
                var (stale, name) = LargestDifference(three[0], replica);
                Assert.True(stale == 0, $"a replica differs from the master by {stale:g3} in {name} after the gather (sharded: {shard})");
            }
        }
    }

    [Theory]
    [InlineData(LossType.Bnpo)]
    [InlineData(LossType.DrGrpo)]
    [InlineData(LossType.Dapo)]
    public void EveryLossNormalizationIsTheOneReplicaOne(LossType lossType)
    {
        var recipe = new GrpoRecipe
        {
            NumGenerations = 4, PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = 5, MaxCompletionLength = 8,
            Beta = 0, LearningRate = 0.5, MaxGradNorm = 0, LossType = lossType, MaskTruncatedCompletions = true,
        };
        var one = Update(recipe, 5, [4], replicaCount: 1)[0];
        var three = Update(recipe, 5, [4], replicaCount: 3)[0];
        var (largest, where) = LargestDifference(one, three);
        Assert.True(largest <= Tolerance, $"{lossType}: 3 replicas differ from 1 by {largest:g3} in {where}");
    }
}
