using GrpoAspire.Grpo.Math;
using GrpoAspire.Tasks;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>Learning-rate schedule after warm-up.</summary>
public enum LrSchedulerType
{
    Constant,
    Linear,
    Cosine,
}

/// <summary>
/// A resolved training recipe: the seed's TRL keys (snake_case in YAML) plus our own. Each key is declared once, here:
/// its <see cref="RecipeKeyAttribute"/> gives name, range and help, the initializer its default (TRL's where TRL has one).
/// docs/recipe-keys.md is generated from these declarations. Batch semantics are TRL 0.14's, which the seed used: each
/// device takes <see cref="PerDeviceTrainBatchSize"/> prompts per micro-batch, each sampled <see cref="NumGenerations"/> times.
/// </summary>
public sealed record GrpoRecipe
{
    // Model
    [RecipeKey("model_name_or_path", Help = "a local Hugging Face folder, countdown-tiny (the embedded warm-started model) or random:tiny / random:small (a fresh model made in the run folder); a Hub id needs --model DIR")]
    public string ModelNameOrPath { get; init; } = "countdown-tiny";

    [RecipeKey("torch_dtype", Kind = RecipeValueKind.Dtype, Help = "the policy's dtype: bfloat16 trains in bfloat16 (see fp32_master_weights); float32, float16 and auto train in float32")]
    public string TorchDtype { get; init; } = "float32";

    [RecipeKey("bf16", Help = "TRL's bfloat16 switch: true trains in bfloat16, as torch_dtype: bfloat16 does")]
    public bool Bf16 { get; init; }

    [RecipeKey("gradient_checkpointing", Help = "recompute each decoder layer's activations in the backward pass: less memory, more compute")]
    public bool GradientCheckpointing { get; init; }

    /// <summary>See <see cref="Training.MasterWeights"/>.</summary>
    [RecipeKey("fp32_master_weights", Help = "optimize a bfloat16/float16 policy through float32 master copies; false trains the low-precision weights directly; no effect on float32")]
    public bool Fp32MasterWeights { get; init; } = true;

    [RecipeKey("device", Help = "cpu, cuda or cuda:N; with data_parallel_devices, left out it follows the list's first entry")]
    public string Device { get; init; } = "cpu";

    /// <summary>Replicas split a step's micro-batches; the batch itself does not change.</summary>
    [RecipeKey("data_parallel_devices", Kind = RecipeValueKind.DeviceList, Help = "one policy replica per device, master first (cuda:0,cuda:1,cuda:2); empty: the policy alone on device")]
    public IReadOnlyList<string> DataParallelDevices { get; init; } = [];

    /// <summary>See <see cref="Training.PolicyOptimizer"/>.</summary>
    [RecipeKey("shard_optimizer", Help = "ZeRO stage 1 over data_parallel_devices: each replica keeps and steps 1/N of the float32 masters and AdamW moments; false keeps them all on the first device")]
    public bool ShardOptimizer { get; init; } = true;

    [RecipeKey("num_processes", Min = 1, Max = 64, Help = "accelerate's process count; here it only multiplies the prompts per step (data parallelism is data_parallel_devices)")]
    public int NumProcesses { get; init; } = 1;

    // Data
    [RecipeKey("task", Help = "the task the records pose: countdown (default) or another built-in one; it gives the reward functions, the default template, the generator and the held-out set")]
    public string Task { get; init; } = Countdown.CountdownDefinition.Name;

    [RecipeKey("dataset_id_or_path", Help = "generate (the task's seeded generator, never its held-out records), a local JSONL file of records (Countdown: also parquet), or a Hub id (needs --dataset FILE)")]
    public string DatasetIdOrPath { get; init; } = "generate";

    [RecipeKey("output_dir", Help = "run folder: checkpoints, metrics.jsonl, TensorBoard events, samples, curves.png, recipe.json")]
    public string OutputDir { get; init; } = "runs/grpo";

    [RecipeKey("prompt_template", Help = "a built-in template (seed-r1, tinyzero-base, compact, ...) or a .json template file (relative to the recipe's folder); empty: the task's default")]
    public string PromptTemplate { get; init; } = string.Empty;

    [RecipeKey("max_tasks", Min = 1, Help = "training tasks drawn or read")]
    public int MaxTasks { get; init; } = 50_000;

    /// <summary>E.g. 3 for a curriculum that leaves out the four-number tasks a small model almost never solves.</summary>
    [RecipeKey("max_task_numbers", Min = 0, Max = Countdown.CountdownTask.MaxNumbers, Help = "train only on tasks of at most this many numbers; 0 keeps every task; evaluation is unchanged")]
    public int MaxTaskNumbers { get; init; }

    // Optimization
    [RecipeKey("max_steps", Min = 1, Max = 10_000_000, Help = "optimizer steps; the learning-rate schedule follows it")]
    public int MaxSteps { get; init; } = 450;

    [RecipeKey("per_device_train_batch_size", Min = 1, Max = 4096, Help = "prompts per device per micro-batch (TRL 0.14), each sampled num_generations times")]
    public int PerDeviceTrainBatchSize { get; init; } = 1;

    [RecipeKey("gradient_accumulation_steps", Min = 1, Max = 4096, Help = "micro-batches per optimizer step")]
    public int GradientAccumulationSteps { get; init; } = 8;

    [RecipeKey("learning_rate", Min = 0, Max = 1, MinExclusive = true, Help = "AdamW's learning rate after warm-up")]
    public double LearningRate { get; init; } = 1e-6;

    [RecipeKey("lr_scheduler_type", Help = "learning-rate schedule after warm-up")]
    public LrSchedulerType LrSchedulerType { get; init; } = LrSchedulerType.Linear;

    [RecipeKey("warmup_ratio", Min = 0, Max = 1, Help = "fraction of max_steps with a linear warm-up")]
    public double WarmupRatio { get; init; }

    [RecipeKey("weight_decay", Min = 0, Max = 10, Help = "AdamW's decoupled weight decay")]
    public double WeightDecay { get; init; }

    [RecipeKey("max_grad_norm", Min = 0, Max = 1e6, Help = "clip the gradients' global norm to this")]
    public double MaxGradNorm { get; init; } = 1.0;

    [RecipeKey("adam_beta1", Min = 0, Max = 1, Help = "AdamW's beta1")]
    public double AdamBeta1 { get; init; } = 0.9;

    [RecipeKey("adam_beta2", Min = 0, Max = 1, Help = "AdamW's beta2")]
    public double AdamBeta2 { get; init; } = 0.999;

    [RecipeKey("adam_epsilon", Min = 0, Max = 1, MinExclusive = true, Help = "AdamW's epsilon")]
    public double AdamEpsilon { get; init; } = 1e-8;

    [RecipeKey("seed", Min = 0, Help = "seed of the data draw, sampling and a random model")]
    public long Seed { get; init; } = 42;

    // GRPO
    [RecipeKey("beta", Min = 0, Max = 100, Help = "KL coefficient against the reference model; 0 loads no reference model")]
    public double Beta { get; init; } = 0.04;

    [RecipeKey("epsilon", Min = 0, Max = 1, MinExclusive = true, Help = "lower clip of the probability ratio: 1 - epsilon")]
    public double Epsilon { get; init; } = 0.2;

    [RecipeKey("epsilon_high", Min = 0, Max = 10, MinExclusive = true, Help = "upper clip: 1 + epsilon_high (DAPO's clip-higher); null: epsilon")]
    public double? EpsilonHigh { get; init; }

    [RecipeKey("loss_type", Help = "how per-token losses become one: per-sequence means (grpo), token sums over active tokens (bnpo, dapo) or over a fixed length (dr_grpo)")]
    public LossType LossType { get; init; } = LossType.Grpo;

    [RecipeKey("scale_rewards", Help = "advantages divided by the group's or the batch's reward std, or not at all (Dr. GRPO)")]
    public ScaleRewards ScaleRewards { get; init; } = ScaleRewards.Group;

    [RecipeKey("num_generations", Min = 2, Max = 1024, Help = "completions per prompt (the group size G)")]
    public int NumGenerations { get; init; } = 8;

    [RecipeKey("num_iterations", Min = 1, Max = 64, Help = "policy updates per generated batch (mu)")]
    public int NumIterations { get; init; } = 1;

    [RecipeKey("mask_truncated_completions", Help = "leave completions cut at max_completion_length out of the loss")]
    public bool MaskTruncatedCompletions { get; init; }

    [RecipeKey("max_prompt_length", Min = 1, Max = 131_072, Help = "longest prompt, in tokens")]
    public int MaxPromptLength { get; init; } = 256;

    [RecipeKey("max_completion_length", Min = 1, Max = 131_072, Help = "longest completion, in tokens")]
    public int MaxCompletionLength { get; init; } = 256;

    [RecipeKey("temperature", Min = 0, Max = 10, MinExclusive = true, Help = "sampling temperature")]
    public double Temperature { get; init; } = 1.0;

    [RecipeKey("top_p", Min = 0, Max = 1, MinExclusive = true, Help = "nucleus sampling; 1 keeps every token")]
    public double TopP { get; init; } = 1.0;

    [RecipeKey("top_k", Min = 0, Help = "sample among the k likeliest tokens; 0 keeps every token")]
    public int TopK { get; init; }

    [RecipeKey("decode_loop", Help = "how the trainer's own sampler (grpo train, held-out evaluation) decodes: auto (CUDA graphs on a GPU, eager on a CPU), eager, fixed or graph; GRPO_DECODE_LOOP overrides it")]
    public Model.Sampling.DecodeLoopMode DecodeLoop { get; init; } = Model.Sampling.DecodeLoopMode.Auto;

    [RecipeKey("decode_attention", Help = "the attention of its one-token decode steps: grouped, sdpa or sdpa-static; GRPO_DECODE_ATTENTION overrides it")]
    public Model.Qwen2.DecodeAttentionMode DecodeAttention { get; init; } = Model.Qwen2.DecodeAttentionMode.Grouped;

    /// <summary>
    /// How step <paramref name="step"/> (1-based) samples its rollouts: the recipe's temperature, top-p, top-k and
    /// completion length, and a seed derived from the recipe's seed and the step, so that resume samples as a straight run.
    /// </summary>
    public Model.Sampling.SamplingParams SamplingFor(int step, IReadOnlyList<int> eosTokenIds) => new()
    {
        Temperature = Temperature,
        TopP = TopP,
        TopK = TopK,
        MaxNewTokens = MaxCompletionLength,
        EosTokenIds = eosTokenIds,
        Seed = Seed + (1_000_003L * (step - 1)),
    };

    /// <summary>The decode options of the trainer's own sampler: the recipe's, with the environment's overrides.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Model.Sampling.DecodeOptions Decode => new Model.Sampling.DecodeOptions { Loop = DecodeLoop, Attention = DecodeAttention }.WithEnvironment();

    [RecipeKey("reward_funcs", Kind = RecipeValueKind.RewardFunctions, Help = "reward functions, summed with reward_weights")]
    [RecipeKey("reward_weights", Kind = RecipeValueKind.RewardWeights, Help = "one weight per reward function (list reward_funcs first)")]
    public IReadOnlyList<RewardWeight> Rewards { get; init; } = [];

    /// <summary>The task's definition in the built-in catalog.</summary>
    public ITaskDefinition Definition() => BuiltInTasks.BuiltInTasks.Catalog.Task(Task);

    /// <summary>The reward functions and weights used: <see cref="Rewards"/>, or the task's defaults when none are listed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<RewardWeight> EffectiveRewards => Rewards.Count > 0 ? Rewards : Definition().DefaultRewards;

    /// <summary>The prompt template: <see cref="PromptTemplate"/>, or the task's default when empty.</summary>
    public Tasks.Prompts.PromptTemplate Template() => Tasks.Prompts.PromptTemplate.Get(PromptTemplate.Length > 0 ? PromptTemplate : Definition().DefaultPromptTemplate);

    // Off-policy
    [RecipeKey("max_staleness", Min = 0, Max = 64, Help = "how many policy versions older than the trained one a rollout may be sampled with; 0 = on-policy; N >= 1 overlaps sampling of the next N steps with training")]
    public int MaxStaleness { get; init; }

    [RecipeKey("vllm_importance_sampling_correction", Help = "TRL's truncated importance sampling: weight each token by pi_proximal / pi_sampler, capped at vllm_importance_sampling_cap, to correct for rollouts of an older policy or another kernel")]
    public bool VllmImportanceSamplingCorrection { get; init; } = true;

    [RecipeKey("vllm_importance_sampling_cap", Min = 1, Max = 1e6, Help = "TRL's truncation of the importance weights (TIS)")]
    public double VllmImportanceSamplingCap { get; init; } = 2.0;

    // Logging, saving, evaluation
    [RecipeKey("logging_steps", Min = 1, Help = "steps between progress lines")]
    public int LoggingSteps { get; init; } = 1;

    [RecipeKey("save_strategy", Kind = RecipeValueKind.StepsOrNo, Help = "steps: a checkpoint every save_steps and after the last step; no: none")]
    public bool SaveEnabled { get; init; } = true;

    [RecipeKey("save_steps", Min = 1, Help = "steps between checkpoints")]
    public int SaveSteps { get; init; } = 25;

    [RecipeKey("eval_strategy", Kind = RecipeValueKind.StepsOrNo, Help = "steps: held-out evaluation every eval_steps and after the last step; no: none")]
    public bool EvalEnabled { get; init; }

    [RecipeKey("eval_steps", Min = 0, Help = "steps between held-out evaluations; 0 = only after the last step")]
    public int EvalSteps { get; init; }

    [RecipeKey("eval_tasks", Min = 1, Max = 100_000, Help = "held-out tasks: the first eval_tasks of the fixed held-out set, which training never draws")]
    public int EvalTasks { get; init; } = 500;

    [RecipeKey("eval_on_start", Help = "one held-out evaluation of the starting model before step 1 (the before number)")]
    public bool EvalOnStart { get; init; }

    [RecipeKey("eval_samples", Min = 0, Max = 64, Help = "sampled completions per held-out task (at the recipe's temperature) besides the greedy one")]
    public int EvalSamples { get; init; } = 1;

    [RecipeKey("per_device_eval_batch_size", Min = 1, Max = 4096, Help = "sequences per sampler call during evaluation")]
    public int PerDeviceEvalBatchSize { get; init; } = 64;

    public double EffectiveEpsilonHigh => EpsilonHigh ?? Epsilon;

    /// <summary>Prompts per optimizer step: per-device batch x accumulation x devices.</summary>
    public int PromptsPerStep => PerDeviceTrainBatchSize * GradientAccumulationSteps * NumProcesses;

    public int CompletionsPerStep => PromptsPerStep * NumGenerations;

    /// <summary>Whether a checkpoint is saved after <paramref name="step"/>: every save_steps, and at the last step.</summary>
    public bool IsCheckpointStep(int step) => SaveEnabled && (step % SaveSteps == 0 || step == MaxSteps);

    /// <summary>Whether the held-out set is evaluated after <paramref name="step"/>: every eval_steps (when > 0), and at the last step.</summary>
    public bool IsEvalStep(int step) => EvalEnabled && ((EvalSteps > 0 && step % EvalSteps == 0) || step == MaxSteps);
}
