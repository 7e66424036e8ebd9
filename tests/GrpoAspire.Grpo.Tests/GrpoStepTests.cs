using GrpoAspire.Countdown;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Math;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

/// <summary>The GRPO step on a tiny random model with a toy reward: the number of times token 7 appears.</summary>
public sealed class GrpoStepTests
{
    private const int RewardedToken = 7;

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

    private static RewardBreakdown ToyReward(PromptJob prompt, string text, int[] tokens)
    {
        double count = tokens.Count(t => t == RewardedToken);
        return new RewardBreakdown([new RewardValue("equation", count)], count, "wrong_value");
    }

    /// <summary>A step's context for <paramref name="replicas"/>' master, whose flat parameter <paramref name="optimizer"/> steps.</summary>
    private static GrpoStepContext Context(PolicyReplicas replicas, GrpoRecipe recipe, PolicyOptimizer optimizer) => new(
        replicas.Policies[0], null, optimizer, recipe, ToyReward, ids => string.Join(' ', ids), PadTokenId: 0, replicas);

    /// <summary>One step on-policy: the prompts sampled by the context's policy (version <paramref name="step"/>), then the update.</summary>
    private static StepResult Step(GrpoStepContext context, int step, IReadOnlyList<PromptJob> prompts, double learningRate)
    {
        var recipe = context.Recipe;
        var sampling = recipe.SamplingFor(step + 1, []);
        context.Policy.eval();
        var rollouts = LocalRolloutSource.Sample(new Sampler(context.Policy), new RolloutRequest(step + 1, prompts, recipe.NumGenerations, sampling, step), step);
        return GrpoStepRunner.Run(context, step, prompts, rollouts, learningRate);
    }

    private static IReadOnlyList<PromptJob> Prompts(int count, int step) =>
        Enumerable.Range(0, count)
            .Select(i => new PromptJob(i, CountdownDefinition.ToRecord(new CountdownTask([1, 2], 3)), "p", [1 + ((i + step) % 20), 2, 3]))
            .ToArray();

    private static GrpoRecipe ToyRecipe => new()
    {
        NumGenerations = 8, PerDeviceTrainBatchSize = 2, GradientAccumulationSteps = 2, MaxCompletionLength = 8,
        Beta = 0, LearningRate = 3e-3, Seed = 5,
    };

    [Fact]
    public void OneStepChangesEveryTrainableParameter()
    {
        using var model = TinyModel(seed: 1);
        using var replicas = PolicyReplicas.Single(model, null);
        using var optimizer = PolicyOptimizer.Create(replicas, masters: false, shard: false, p => optim.AdamW([p], lr: 1e-2));
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        Step(Context(replicas, ToyRecipe, optimizer), 0, Prompts(4, 0), 1e-2);
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.True((parameter - before[name]).abs().max().item<float>() > 0, $"{name} did not change");
        }
    }

    [Fact]
    public void MeanRewardRisesWithinThirtyStepsOnAToyReward()
    {
        using var model = TinyModel(seed: 2);
        var recipe = ToyRecipe;
        using var replicas = PolicyReplicas.Single(model, null);
        using var optimizer = PolicyOptimizer.Create(replicas, masters: false, shard: false, p => optim.AdamW([p], lr: recipe.LearningRate));
        var context = Context(replicas, recipe, optimizer);
        var rewards = new List<double>();
        for (var step = 0; step < 30; step++)
        {
            rewards.Add(Step(context, step, Prompts(4, step), recipe.LearningRate).Metrics.Reward);
        }

        var first = rewards.Take(5).Average();
        var last = rewards.TakeLast(5).Average();
        Assert.True(last > first + 1.0, $"mean reward went from {first:F2} to {last:F2}: [{string.Join(", ", rewards.Select(r => r.ToString("F2")))}]");
    }

    /// <summary>The weights after one update of a fresh seed-1 model on <paramref name="rollouts"/>, and the step's metrics.</summary>
    private static (Dictionary<string, Tensor> Weights, StepMetrics Metrics) UpdateOn(IReadOnlyList<Rollout> rollouts, int step, GrpoRecipe recipe)
    {
        using var model = TinyModel(seed: 1);
        using var replicas = PolicyReplicas.Single(model, null);
        using var optimizer = PolicyOptimizer.Create(replicas, masters: false, shard: false, p => optim.AdamW([p], lr: 1e-2));
        var metrics = GrpoStepRunner.Run(Context(replicas, recipe, optimizer), step, Prompts(4, 0), rollouts, 1e-2).Metrics;
        return (model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone()), metrics);
    }

    private static IReadOnlyList<Rollout> SampledBySeedOne(long version)
    {
        using var model = TinyModel(seed: 1);
        model.eval();
        var sampling = new SamplingParams { Temperature = 1.0, MaxNewTokens = 8, Seed = 11 };
        return LocalRolloutSource.Sample(new Sampler(model), new RolloutRequest(1, Prompts(4, 0), ToyRecipe.NumGenerations, sampling, 0), version);
    }

    [Fact]
    public void TheUpdateFollowsTheSamplersLogProbs()
    {
        // The same tokens, once with the log-probs the sampler recorded (the policy itself sampled them) and once as if an
        // older policy had given them less probability, by a different amount per token: the importance weights differ
        // from 1 and so does the update. An update that ignored the sampling log-probs would make the two equal.
        var fresh = SampledBySeedOne(version: 0);
        var stale = fresh.Select(r => r with
        {
            Sequence = r.Sequence with { LogProbs = r.Sequence.LogProbs.Select((l, t) => l - (0.05f * (t % 7))).ToArray() },
        }).ToArray();
        var (freshWeights, freshMetrics) = UpdateOn(fresh, 0, ToyRecipe);
        var (staleWeights, staleMetrics) = UpdateOn(stale, 0, ToyRecipe);

        Assert.InRange(freshMetrics.Sampler!.WeightMax, 0.999, 1.001);
        Assert.True(staleMetrics.Sampler!.WeightMax > 1.2, $"{staleMetrics.Sampler}");
        var largest = freshWeights.Max(p => (p.Value - staleWeights[p.Key]).abs().max().item<float>());
        Assert.True(largest > 1e-5, $"the updates differ by at most {largest}");
    }

    [Fact]
    public void ARolloutOlderThanMaxStalenessIsRefused()
    {
        // Training version 2 (step 3) with max_staleness 1 takes rollouts of versions 1 and 2.
        var error = Assert.Throws<InvalidOperationException>(() => UpdateOn(SampledBySeedOne(version: 0), 2, ToyRecipe with { MaxStaleness = 1 }));
        Assert.Contains("max_staleness 1", error.Message);
        Assert.Equal(1.0, UpdateOn(SampledBySeedOne(version: 1), 2, ToyRecipe with { MaxStaleness = 1 }).Metrics.StalenessMax);
    }

    [Theory]
    [InlineData(LossType.Grpo, 1)]
    [InlineData(LossType.Bnpo, 1)]
    [InlineData(LossType.DrGrpo, 1)]
    [InlineData(LossType.Dapo, 1)]
    [InlineData(LossType.Bnpo, 3)]
    [InlineData(LossType.Grpo, 2)]
    public void LeavingOutRowsOfZeroAdvantageGivesTheSameUpdate(LossType lossType, int iterations)
    {
        // 3 prompts x 4 completions in micro-batches of 1 prompt: group 0 has equal rewards (advantage 0 everywhere,
        // a whole micro-batch left out), groups 1 and 2 differ; lengths differ so every normalization matters.
        var recipe = ToyRecipe with
        {
            NumGenerations = 4, PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = 3, LossType = lossType, MaxGradNorm = 0,
            NumIterations = iterations, // later passes: ratios away from 1, clipping active at lr 0.5
        };
        var prompts = Prompts(3, 0);
        var random = new Random(11);
        var completions = Enumerable.Range(0, 12).Select(i =>
        {
            var tokens = Enumerable.Range(0, 2 + random.Next(6)).Select(_ => random.Next(1, 32)).ToArray();
            var reward = i / 4 == 0 ? 1.0 : random.Next(3);
            return new ScoredCompletion(i / 4, tokens, new float[tokens.Length], FinishReason.Stop, "t",
                new RewardBreakdown([new RewardValue("equation", reward)], reward, "wrong_value"));
        }).ToArray();
        using var rewards = tensor(completions.Select(c => (float)c.Reward.Total).ToArray());
        using var advantages = Advantages.Compute(rewards, 4, ScaleRewards.Group);
        Assert.Equal(0f, advantages.narrow(0, 0, 4).abs().max().item<float>());
        Assert.True(advantages.abs().max().item<float>() > 0.1f);

        Dictionary<string, Tensor> Update(bool skip)
        {
            using var model = TinyModel(seed: 3);
            using var replicas = PolicyReplicas.Single(model, null);
            using var optimizer = PolicyOptimizer.Create(replicas, masters: false, shard: false, p => optim.SGD([p], 0.5));
            var summary = PolicyUpdate.Run(Context(replicas, recipe, optimizer), prompts, completions, advantages, 0.5, skipZeroAdvantage: skip);
            Assert.True(double.IsFinite(summary.Loss));
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        }

        var full = Update(skip: false);
        var skipped = Update(skip: true);
        using var initial = TinyModel(seed: 3);
        var moved = initial.named_parameters().Max(p => (full[p.name] - p.parameter).abs().max().item<float>());
        Assert.True(moved > 1e-3, $"the update barely moved the model ({moved})");
        foreach (var (name, value) in full)
        {
            var difference = (value - skipped[name]).abs().max().item<float>();
            Assert.True(difference < 1e-6, $"{name}: {difference} apart with and without the zero-advantage rows");
        }
    }
}
