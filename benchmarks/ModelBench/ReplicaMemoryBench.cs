using System.Diagnostics;
using System.Globalization;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace ModelBench;

/// <summary>
/// The GPU memory of one trainer replica of N at the seed's shapes, generation elsewhere (the seed samples on a fourth
/// GPU): the trainer's own data-parallel step (<see cref="PolicyReplicas"/>, the sharded <see cref="PolicyOptimizer"/>,
/// <see cref="GrpoStepRunner"/>) with replica 0 on the measured GPU and the other N - 1 on <c>--others</c> (default: the
/// CPU, so that one GPU shows what each of N would hold). Each step is one micro-batch (per_device_train_batch_size
/// prompts x G completions of max_prompt_length + max_completion_length tokens), trained by replica 0; the other replicas
/// take part in the gradient reduction, the sharded AdamW step and the gather as in a real step. The caching allocator
/// keeps what it reserved, so the device's used memory after a step is its peak plus the CUDA context (read with
/// nvidia-smi; null where there is none).
/// </summary>
internal static class ReplicaMemoryBench
{
    private const double Gib = 1L << 30;

    public static Dictionary<string, object> Run(Args options, Device device, ScalarType dtype)
    {
        var recipePath = options.Get("recipe", "recipes/grpo-qwen-2.5-3b-deepseek-r1-countdown.yaml");
        var recipe = RecipeLoader.LoadFile(recipePath).Recipe;
        var shape = options.Get("shape", "3B");
        var replicaCount = options.PositiveInt("replicas", recipe.NumProcesses);
        var others = TorchRuntime.ParseDevice(options.Get("others", "cpu"));
        var steps = options.PositiveInt("steps", 2);
        var promptLength = options.PositiveInt("prompt", recipe.MaxPromptLength);
        var completionLength = options.PositiveInt("completion", recipe.MaxCompletionLength);
        var config = Shapes.Get(shape).Validated();

        var memory = new List<(string Point, long? UsedMib)> { ("before_cuda", GpuMemory.UsedMib(device)) };
        using (zeros(1, device: device))
        {
            DeviceWait.For(device);
        }

        memory.Add(("cuda_context", GpuMemory.UsedMib(device)));
        using var policy = new Qwen2ForCausalLM(config, device, dtype);
        policy.InitializeWeights(0);
        policy.GradientCheckpointing = recipe.GradientCheckpointing;
        using var reference = recipe.Beta != 0 ? SeedStepBench.FrozenCopy(config, device, dtype) : null;
        using var replicas = PolicyReplicas.Create(
            policy, reference, [device, .. Enumerable.Repeat(others, replicaCount - 1)],
            _ => (new Qwen2ForCausalLM(config, others, dtype), null)); // the other replicas train no micro-batch here
        var masters = MasterWeights.AppliesTo(dtype, recipe.Fp32MasterWeights);
        using var optimizer = PolicyOptimizer.Create(
            replicas, masters, recipe.ShardOptimizer,
            p => optim.AdamW([p], recipe.LearningRate, recipe.AdamBeta1, recipe.AdamBeta2, recipe.AdamEpsilon, recipe.WeightDecay));
        DeviceWait.For(device);
        memory.Add(("models_and_optimizer", GpuMemory.UsedMib(device)));

        var context = new GrpoStepContext(policy, reference, optimizer, recipe, SeedStepBench.ToyReward, _ => string.Empty, PadTokenId: 0, replicas);
        var random = new Random(7);
        var stepSeconds = new List<double>();
        for (var step = 0; step < steps; step++)
        {
            var prompts = SeedStepBench.RandomPrompts(random, System.Math.Max(1, recipe.PerDeviceTrainBatchSize), promptLength, config);
            // Every completion as long as the recipe allows and counted by the loss (stopped, not truncated): the worst case.
            var rollouts = prompts.SelectMany(p => Enumerable.Range(0, recipe.NumGenerations).Select(_ => new Rollout(
                p.Index, new GeneratedSequence(SeedStepBench.RandomTokens(random, completionLength, config), Enumerable.Repeat(-2f, completionLength).ToArray(), FinishReason.Stop),
                PolicyVersion: step))).ToArray();
            var watch = Stopwatch.StartNew();
            var metrics = GrpoStepRunner.Run(context, step, prompts, rollouts, recipe.LearningRate).Metrics;
            DeviceWait.For(device);
            stepSeconds.Add(System.Math.Round(watch.Elapsed.TotalSeconds, 2));
            memory.Add(($"after_step_{step + 1}", GpuMemory.UsedMib(device)));
            Console.Error.WriteLine(
                $"replica step {step + 1}/{steps} ({shape}, replica 0 of {replicaCount}): {stepSeconds[^1]} s (reference log-probs "
                + $"{metrics.LogProbSeconds:F2} s, optimize {metrics.OptimizeSeconds:F2} s), GPU used {memory[^1].UsedMib?.ToString(CultureInfo.InvariantCulture) ?? "n/a"} MiB");
        }

        var held = optimizer.Memory()[0];
        var referenceBytes = reference?.parameters().Sum(p => p.NumberOfElements * p.ElementSize) ?? 0;
        var results = new Dictionary<string, object>
        {
            ["recipe"] = recipePath, ["shape"] = shape, ["parameters"] = policy.ParameterCount(), ["replicas"] = replicaCount,
            ["measured_replica"] = $"0 on {device}", ["other_replicas_on"] = others.ToString(),
            ["micro_batch_sequences"] = System.Math.Max(1, recipe.PerDeviceTrainBatchSize) * recipe.NumGenerations,
            ["sequence_tokens"] = promptLength + completionLength, ["gradient_checkpointing"] = recipe.GradientCheckpointing,
            ["fp32_master_weights"] = masters, ["shard_optimizer"] = recipe.ShardOptimizer, ["beta"] = recipe.Beta,
            ["step_s"] = stepSeconds,
            ["gpu_used_mib"] = memory.ToDictionary(m => m.Point, m => (object?)m.UsedMib),
            ["held_gib"] = new Dictionary<string, double>
            {
                ["weights"] = Round(held.Weights), ["gradients"] = Round(held.Gradients), ["float32_masters"] = Round(held.Masters),
                ["adamw_moments"] = Round(held.Moments), ["reference"] = Round(referenceBytes),
            },
        };
        if (memory.All(m => m.UsedMib is not null))
        {
            var peak = memory.Max(m => m.UsedMib!.Value) - memory[0].UsedMib!.Value;
            var cudaContext = memory[1].UsedMib!.Value - memory[0].UsedMib!.Value;
            var tensors = held.Total + referenceBytes;
            results["replica_peak_gib"] = Round(peak * (double)(1 << 20));
            results["cuda_context_gib"] = Round(cudaContext * (double)(1 << 20));
            // What the allocator reserved beyond the held tensors: the step's activations, logits and temporaries at their
            // peak, plus what it keeps cached around them (libtorch's allocator statistics are not bound in TorchSharp).
            results["activations_and_allocator_reserve_gib"] = Round((peak - cudaContext) * (double)(1 << 20) - tensors);
        }

        results["peak_working_set_gb"] = System.Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1e9, 3);
        return results;
    }

    private static double Round(double bytes) => System.Math.Round(bytes / Gib, 2);
}
