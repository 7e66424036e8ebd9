using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Grpo.Math;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>Every key that changes a recipe, with its type and range.</summary>
internal static class RecipeKeys
{
    public static readonly Dictionary<string, Func<GrpoRecipe, RecipeValue, GrpoRecipe>> Setters = new()
    {
        ["model_name_or_path"] = (r, v) => r with { ModelNameOrPath = v.String() },
        ["torch_dtype"] = (r, v) => r with { TorchDtype = v.Parse(ParseDtype) },
        ["bf16"] = (r, v) => r with { Bf16 = v.Bool() },
        ["gradient_checkpointing"] = (r, v) => r with { GradientCheckpointing = v.Bool() },
        ["fp32_master_weights"] = (r, v) => r with { Fp32MasterWeights = v.Bool() },
        ["device"] = (r, v) => r with { Device = v.String() },
        ["data_parallel_devices"] = (r, v) => r with { DataParallelDevices = Devices(v) },
        ["num_processes"] = (r, v) => r with { NumProcesses = v.Int(1, 64) },
        ["dataset_id_or_path"] = (r, v) => r with { DatasetIdOrPath = v.String() },
        ["output_dir"] = (r, v) => r with { OutputDir = v.String() },
        ["prompt_template"] = (r, v) => r with { PromptTemplate = v.String() },
        ["max_tasks"] = (r, v) => r with { MaxTasks = v.Int(1) },
        ["max_task_numbers"] = (r, v) => r with { MaxTaskNumbers = v.Int(0, Countdown.CountdownTask.MaxNumbers) },
        ["max_steps"] = (r, v) => r with { MaxSteps = v.Int(1, 10_000_000) },
        ["per_device_train_batch_size"] = (r, v) => r with { PerDeviceTrainBatchSize = v.Int(1, 4096) },
        ["gradient_accumulation_steps"] = (r, v) => r with { GradientAccumulationSteps = v.Int(1, 4096) },
        ["learning_rate"] = (r, v) => r with { LearningRate = v.Double(0, 1, minExclusive: true) },
        ["lr_scheduler_type"] = (r, v) => r with { LrSchedulerType = v.Parse(ParseScheduler) },
        ["warmup_ratio"] = (r, v) => r with { WarmupRatio = v.Double(0, 1) },
        ["weight_decay"] = (r, v) => r with { WeightDecay = v.Double(0, 10) },
        ["max_grad_norm"] = (r, v) => r with { MaxGradNorm = v.Double(0, 1e6) },
        ["adam_beta1"] = (r, v) => r with { AdamBeta1 = v.Double(0, 1) },
        ["adam_beta2"] = (r, v) => r with { AdamBeta2 = v.Double(0, 1) },
        ["adam_epsilon"] = (r, v) => r with { AdamEpsilon = v.Double(0, 1, minExclusive: true) },
        ["seed"] = (r, v) => r with { Seed = v.Int(0) },
        ["beta"] = (r, v) => r with { Beta = v.Double(0, 100) },
        ["epsilon"] = (r, v) => r with { Epsilon = v.Double(0, 1, minExclusive: true) },
        ["epsilon_high"] = (r, v) => r with { EpsilonHigh = v.Double(0, 10, minExclusive: true) },
        ["loss_type"] = (r, v) => r with { LossType = v.Parse(GrpoEnumNames.ParseLossType) },
        ["scale_rewards"] = (r, v) => r with { ScaleRewards = v.Parse(GrpoEnumNames.ParseScaleRewards) },
        ["num_generations"] = (r, v) => r with { NumGenerations = v.Int(2, 1024) },
        ["num_iterations"] = (r, v) => r with { NumIterations = v.Int(1, 64) },
        ["mask_truncated_completions"] = (r, v) => r with { MaskTruncatedCompletions = v.Bool() },
        ["max_prompt_length"] = (r, v) => r with { MaxPromptLength = v.Int(1, 131_072) },
        ["max_completion_length"] = (r, v) => r with { MaxCompletionLength = v.Int(1, 131_072) },
        ["temperature"] = (r, v) => r with { Temperature = v.Double(0, 10, minExclusive: true) },
        ["top_p"] = (r, v) => r with { TopP = v.Double(0, 1, minExclusive: true) },
        ["top_k"] = (r, v) => r with { TopK = v.Int(0) },
        ["max_staleness"] = (r, v) => r with { MaxStaleness = v.Int(0, 64) },
        ["vllm_importance_sampling_correction"] = (r, v) => r with { VllmImportanceSamplingCorrection = v.Bool() },
        ["vllm_importance_sampling_cap"] = (r, v) => r with { VllmImportanceSamplingCap = v.Double(1, 1e6) },
        ["reward_funcs"] = (r, v) => r with { Rewards = WithFunctions(r.Rewards, v) },
        ["reward_weights"] = (r, v) => r with { Rewards = WithWeights(r.Rewards, v) },
        ["logging_steps"] = (r, v) => r with { LoggingSteps = v.Int(1) },
        ["save_strategy"] = (r, v) => r with { SaveEnabled = v.Parse(ParseStepsOrNo) },
        ["save_steps"] = (r, v) => r with { SaveSteps = v.Int(1) },
        ["eval_steps"] = (r, v) => r with { EvalSteps = v.Int(0) },
        ["eval_tasks"] = (r, v) => r with { EvalTasks = v.Int(1, 100_000) },
        ["eval_strategy"] = (r, v) => r with { EvalEnabled = v.Parse(ParseStepsOrNo) },
        ["eval_on_start"] = (r, v) => r with { EvalOnStart = v.Bool() },
        ["eval_samples"] = (r, v) => r with { EvalSamples = v.Int(0, 64) },
        ["per_device_eval_batch_size"] = (r, v) => r with { PerDeviceEvalBatchSize = v.Int(1, 4096) },
    };


    private static string ParseDtype(string value) => value.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "float" => "float32",
        "bfloat16" or "bf16" => "bfloat16",
        "float16" or "fp16" or "half" => "float16",
        "auto" => "auto",
        _ => throw new ArgumentException($"'{value}' is not valid; valid: float32, bfloat16, float16, auto"),
    };

    private static LrSchedulerType ParseScheduler(string value) => value.ToLowerInvariant() switch
    {
        "constant" or "constant_with_warmup" => LrSchedulerType.Constant,
        "linear" => LrSchedulerType.Linear,
        "cosine" => LrSchedulerType.Cosine,
        _ => throw new ArgumentException($"'{value}' is not valid; valid: constant, constant_with_warmup, linear, cosine"),
    };

    /// <summary>save_strategy and eval_strategy: <c>steps</c> (on) or <c>no</c> (off); TRL's <c>epoch</c> has no meaning here.</summary>
    private static bool ParseStepsOrNo(string value) => value.ToLowerInvariant() switch
    {
        "steps" => true,
        "no" => false,
        _ => throw new ArgumentException($"'{value}' is not valid; valid: steps, no"),
    };

    private static IReadOnlyList<string> Devices(RecipeValue value)
    {
        try
        {
            return Training.TrainingDevices.Normalize(value.StringList());
        }
        catch (ArgumentException e)
        {
            throw value.Fail(e.Message);
        }
    }

    private static IReadOnlyList<RewardWeight> WithFunctions(IReadOnlyList<RewardWeight> current, RecipeValue value)
    {
        var names = value.StringList();
        if (names.Count == 0)
        {
            throw value.Fail("at least one reward function is needed");
        }

        RewardFunction Parse(string name)
        {
            try
            {
                return RewardFunctionNames.Parse(name);
            }
            catch (ArgumentException e)
            {
                throw value.Fail(e.Message);
            }
        }

        return names.Select((name, i) => new RewardWeight(
            Parse(name), i < current.Count && current.Count == names.Count ? current[i].Weight : 1.0)).ToArray();
    }

    private static IReadOnlyList<RewardWeight> WithWeights(IReadOnlyList<RewardWeight> current, RecipeValue value)
    {
        var weights = value.StringList().Select(w => double.TryParse(w, System.Globalization.CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d : throw value.Fail($"'{w}' is not a number")).ToArray();
        if (weights.Length != current.Count)
        {
            throw value.Fail($"{weights.Length} weights for {current.Count} reward functions (list reward_funcs first)");
        }

        return current.Select((r, i) => r with { Weight = weights[i] }).ToArray();
    }
}
