using System.Diagnostics;
using System.Globalization;
using GrpoAspire.Countdown;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace ModelBench;

/// <summary>
/// The seed's GRPO step on one device, generation colocated: the seed's recipe (prompts per step, G, completion
/// length, beta, micro-batches, learning rate) on a random-weight model of the given shape, through the trainer's own
/// step (<see cref="GrpoStepRunner"/>: sample, score, reference log-probs, update). Random weights rarely emit the
/// end-of-turn token, so completions run to max_completion_length: the step's worst case. Countdown rewards of random
/// text are all 0, which would leave every advantage 0; a toy reward (the share of even token ids) gives the groups
/// varied rewards so that the whole update runs, as in a real step.
/// </summary>
internal static class SeedStepBench
{
    public static Dictionary<string, object> Run(Args options, Device device, ScalarType dtype)
    {
        var recipePath = options.Get("recipe", "recipes/grpo-qwen-2.5-3b-deepseek-r1-countdown.yaml");
        var recipe = RecipeLoader.LoadFile(recipePath).Recipe;
        recipe = recipe with { MaxCompletionLength = options.PositiveInt("completion", recipe.MaxCompletionLength) };
        if (options.Has("prompts"))
        {
            // Fewer prompts for a quick run on a small machine: prompts per step = per_device x accumulation x processes.
            recipe = recipe with { PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = options.PositiveInt("prompts", 1), NumProcesses = 1 };
        }

        var shape = options.Get("shape", "3B");
        var promptLength = options.PositiveInt("prompt", 200);
        var steps = options.PositiveInt("steps", 2);
        var config = Shapes.Get(shape).Validated();
        using var policy = new Qwen2ForCausalLM(config, device, dtype);
        policy.InitializeWeights(0);
        policy.GradientCheckpointing = recipe.GradientCheckpointing; // the seed's recipe turns it on
        using var reference = recipe.Beta != 0 ? FrozenCopy(config, device, dtype) : null;

        // As the trainer: the policy's parameters in one flat buffer, and a bf16 policy optimized through float32 master
        // weights unless the recipe says otherwise.
        using var replicas = PolicyReplicas.Single(policy, reference);
        var masters = MasterWeights.AppliesTo(dtype, recipe.Fp32MasterWeights);
        using var optimizer = PolicyOptimizer.Create(
            replicas, masters, recipe.ShardOptimizer,
            p => optim.AdamW([p], recipe.LearningRate, recipe.AdamBeta1, recipe.AdamBeta2, recipe.AdamEpsilon, recipe.WeightDecay));
        var random = new Random(7);
        var context = new GrpoStepContext(
            policy, reference, optimizer, recipe, ToyReward, ids => string.Empty, PadTokenId: 0, replicas);
        var sampler = new Sampler(policy);
        var results = new Dictionary<string, object>
        {
            ["recipe"] = recipePath, ["shape"] = shape, ["parameters"] = policy.ParameterCount(),
            ["prompts_per_step"] = recipe.PromptsPerStep, ["num_generations"] = recipe.NumGenerations,
            ["max_completion_length"] = recipe.MaxCompletionLength, ["prompt_length"] = promptLength,
            ["micro_batch_prompts"] = recipe.PerDeviceTrainBatchSize, ["beta"] = recipe.Beta,
            ["gradient_checkpointing"] = recipe.GradientCheckpointing, ["fp32_master_weights"] = masters,
        };
        var perStep = new List<Dictionary<string, double>>();
        for (var step = 0; step < steps; step++)
        {
            var prompts = RandomPrompts(random, recipe.PromptsPerStep, promptLength, config);
            var watch = Stopwatch.StartNew();
            var sampling = recipe.SamplingFor(step + 1, [config.VocabSize - 1]);
            policy.eval();
            var rollouts = LocalRolloutSource.Sample(sampler, new RolloutRequest(step + 1, prompts, recipe.NumGenerations, sampling, step), step);
            DeviceWait.For(device);
            var generateSeconds = watch.Elapsed.TotalSeconds;
            var result = GrpoStepRunner.Run(context, step, prompts, rollouts, recipe.LearningRate);
            DeviceWait.For(device);
            var m = result.Metrics;
            var split = new Dictionary<string, double>
            {
                ["step_s"] = Math.Round(watch.Elapsed.TotalSeconds, 2),
                ["generate_s"] = Math.Round(generateSeconds, 2),
                ["score_s"] = Math.Round(m.ScoreSeconds, 3),
                ["ref_logprobs_s"] = Math.Round(m.LogProbSeconds, 2),
                ["optimize_s"] = Math.Round(m.OptimizeSeconds, 2),
                ["sync_s"] = 0, // colocated: the sampler reads the policy's own weights
                ["completion_tokens"] = result.Completions.Sum(c => c.TokenIds.Length),
            };
            perStep.Add(split);
            Console.Error.WriteLine($"seed step {step + 1}/{steps} ({shape}): " + string.Join(", ", split.Select(kv => $"{kv.Key} {kv.Value.ToString(CultureInfo.InvariantCulture)}")));
        }

        results["steps"] = perStep;
        // The first step pays one-time costs (allocator warm-up, kernel selection): the last one is the figure.
        results["seed_step_s"] = perStep[^1]["step_s"];
        return results;
    }

    /// <summary>
    /// <paramref name="count"/> prompts of random token ids (below the vocabulary's last two ids), each standing for one
    /// small Countdown task (the toy reward ignores it).
    /// </summary>
    internal static PromptJob[] RandomPrompts(Random random, int count, int length, Qwen2Config config) =>
        Enumerable.Range(0, count).Select(i => new PromptJob(
            i, CountdownDefinition.ToRecord(new CountdownTask([1, 2, 3], 6)), string.Empty, RandomTokens(random, length, config))).ToArray();

    /// <summary><paramref name="count"/> random token ids below the vocabulary's last two ids.</summary>
    internal static int[] RandomTokens(Random random, int count, Qwen2Config config) =>
        Enumerable.Range(0, count).Select(_ => random.Next(0, config.VocabSize - 2)).ToArray();

    /// <summary>The frozen reference: the policy's random weights (the same seed), no gradients.</summary>
    internal static Qwen2ForCausalLM FrozenCopy(Qwen2Config config, Device device, ScalarType dtype)
    {
        var reference = new Qwen2ForCausalLM(config, device, dtype);
        reference.InitializeWeights(0);
        foreach (var parameter in reference.parameters())
        {
            parameter.requires_grad = false;
        }

        return reference;
    }

    internal static RewardBreakdown ToyReward(PromptJob prompt, string text, int[] tokens)
    {
        var share = tokens.Length == 0 ? 0 : tokens.Count(t => t % 2 == 0) / (double)tokens.Length;
        return new RewardBreakdown([new RewardValue("equation", share)], share, "wrong_value");
    }
}
