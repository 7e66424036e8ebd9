using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Grpo.Math;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>Learning-rate schedule after warm-up.</summary>
public enum LrSchedulerType
{
    Constant,
    Linear,
    Cosine,
}

/// <summary>
/// A resolved training recipe: the seed's TRL keys (snake_case in YAML) plus our own. Defaults follow TRL
/// where TRL has one. Batch semantics are TRL 0.14's, which the seed used: each device takes
/// <see cref="PerDeviceTrainBatchSize"/> prompts per micro-batch, each sampled <see cref="NumGenerations"/> times.
/// </summary>
public sealed record GrpoRecipe
{
    // Model
    public string ModelNameOrPath { get; init; } = "countdown-tiny";
    public string TorchDtype { get; init; } = "float32";
    public bool Bf16 { get; init; }
    public bool GradientCheckpointing { get; init; }

    /// <summary>
    /// fp32_master_weights: a bfloat16/float16 policy is optimized through float32 master copies (<see cref="Training.MasterWeights"/>);
    /// false trains the low-precision weights directly. No effect on a float32 policy.
    /// </summary>
    public bool Fp32MasterWeights { get; init; } = true;
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// data_parallel_devices: one policy replica per device (e.g. cuda:0, cuda:1, cuda:2), master first; empty = the
    /// policy alone on <see cref="Device"/>. Replicas split a step's micro-batches; the batch itself does not change.
    /// </summary>
    public IReadOnlyList<string> DataParallelDevices { get; init; } = [];

    public int NumProcesses { get; init; } = 1;

    // Data
    public string DatasetIdOrPath { get; init; } = "generate";
    public string OutputDir { get; init; } = "runs/grpo";
    public string PromptTemplate { get; init; } = "seed-r1";
    public int MaxTasks { get; init; } = 50_000;

    /// <summary>
    /// Ours (no TRL key): train only on tasks of at most this many numbers, e.g. 3 for a curriculum that leaves the
    /// four-number tasks a small model almost never solves out of training; 0 keeps every task. Evaluation is unchanged.
    /// </summary>
    public int MaxTaskNumbers { get; init; }

    // Optimization
    public int MaxSteps { get; init; } = 450;
    public int PerDeviceTrainBatchSize { get; init; } = 1;
    public int GradientAccumulationSteps { get; init; } = 8;
    public double LearningRate { get; init; } = 1e-6;
    public LrSchedulerType LrSchedulerType { get; init; } = LrSchedulerType.Linear;
    public double WarmupRatio { get; init; }
    public double WeightDecay { get; init; }
    public double MaxGradNorm { get; init; } = 1.0;
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;
    public long Seed { get; init; } = 42;

    // GRPO
    public double Beta { get; init; } = 0.04;
    public double Epsilon { get; init; } = 0.2;
    public double? EpsilonHigh { get; init; }
    public LossType LossType { get; init; } = LossType.Grpo;
    public ScaleRewards ScaleRewards { get; init; } = ScaleRewards.Group;
    public int NumGenerations { get; init; } = 8;
    public int NumIterations { get; init; } = 1;
    public bool MaskTruncatedCompletions { get; init; }
    public int MaxPromptLength { get; init; } = 256;
    public int MaxCompletionLength { get; init; } = 256;
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int TopK { get; init; }
    public IReadOnlyList<RewardWeight> Rewards { get; init; } = RewardWeight.SeedDefaults;

    // Off-policy
    /// <summary>
    /// max_staleness (ours): how many policy versions older than the one being trained a rollout may be sampled with.
    /// 0 = on-policy. With N >= 1 the jobs of the next N steps are enqueued before a step is optimized, so replicas
    /// sample while the trainer trains.
    /// </summary>
    public int MaxStaleness { get; init; }

    /// <summary>
    /// vllm_importance_sampling_correction (TRL): weight each token by pi_proximal / pi_sampler, truncated at
    /// <see cref="VllmImportanceSamplingCap"/>, so that rollouts of an older policy or another kernel are corrected for.
    /// </summary>
    public bool VllmImportanceSamplingCorrection { get; init; } = true;

    /// <summary>vllm_importance_sampling_cap (TRL, default 2): the truncation of the importance weights (TIS).</summary>
    public double VllmImportanceSamplingCap { get; init; } = 2.0;

    // Logging, saving, evaluation
    public int LoggingSteps { get; init; } = 1;
    public int SaveSteps { get; init; } = 25;
    public bool SaveEnabled { get; init; } = true;
    /// <summary>eval_strategy: steps (held-out evaluation every eval_steps and after the last step) or no.</summary>
    public bool EvalEnabled { get; init; }

    /// <summary>Steps between held-out evaluations; 0 = only after the last step.</summary>
    public int EvalSteps { get; init; }

    /// <summary>Held-out tasks: the first eval_tasks of the fixed held-out set, which training never draws.</summary>
    public int EvalTasks { get; init; } = 500;

    /// <summary>eval_on_start: one held-out evaluation of the starting model before step 1 (the "before" number).</summary>
    public bool EvalOnStart { get; init; }

    /// <summary>Sampled completions per held-out task (at the recipe's temperature) besides the greedy one.</summary>
    public int EvalSamples { get; init; } = 1;

    /// <summary>Sequences per sampler call during evaluation.</summary>
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
