using GrpoAspire.Countdown.Traces;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Grpo.Sft;

/// <summary>
/// Settings of a supervised warm start on solver traces. Defaults follow the prototype
/// (shared/anchors/aha_prototype.py): AdamW lr 1e-3, weight decay 0.01, batch 64, clip 1.0.
/// </summary>
public sealed record SftOptions
{
    /// <summary>Run folder: the final Hugging Face model, checkpoint-N/ folders, sft_metrics.jsonl, sft_options.json.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>A Hugging Face folder to start from; null for freshly initialized weights of <see cref="ModelConfig"/>.</summary>
    public string? InitModel { get; init; }

    /// <summary>The shape of a fresh model (<see cref="ModelResolver.RandomConfig"/> names); ignored with <see cref="InitModel"/>.</summary>
    public string ModelConfig { get; init; } = ModelResolver.CountdownTiny;

    /// <summary>Distinct training tasks (generated, never from the held-out set); traces are drawn anew on every pass.</summary>
    public int Tasks { get; init; } = 50_000;

    public int Steps { get; init; } = 2_000;

    /// <summary>Sequences per optimizer step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Most tokens per sequence (prompt + completion + end of turn); longer examples are cut.</summary>
    public int SeqLen { get; init; } = 320;

    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Linear warm-up over this fraction of the steps, then a half cosine to 0 (transformers' cosine schedule).</summary>
    public double WarmupRatio { get; init; } = 0.05;

    public double WeightDecay { get; init; } = 0.01;

    public double MaxGradNorm { get; init; } = 1.0;

    public string Device { get; init; } = "cpu";

    /// <summary>float32, or bfloat16 (trains the bf16 weights directly, as <c>grpo train</c> does); the saved dtype too.</summary>
    public string Dtype { get; init; } = "float32";

    public long Seed { get; init; } = 42;

    /// <summary>Activation checkpointing of the decoder layers (<see cref="Model.Qwen2.Qwen2ForCausalLM.GradientCheckpointing"/>).</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>Evaluate on held-out tasks every N steps and after the last (0 = only after the last).</summary>
    public int EvalEvery { get; init; }

    /// <summary>Held-out tasks per evaluation (the first N of the fixed held-out set; 0 = no evaluation).</summary>
    public int EvalTasks { get; init; } = 100;

    /// <summary>Sampled completions per held-out task (T = 1), besides the greedy one.</summary>
    public int EvalSamples { get; init; } = 2;

    public int EvalMaxNewTokens { get; init; } = 256;

    /// <summary>Save checkpoint-N every N steps (0 = only the final model).</summary>
    public int SaveEvery { get; init; }

    /// <summary>Report (and read the loss back from the device) every N steps.</summary>
    public int LogEvery { get; init; } = 10;

    public string PromptTemplate { get; init; } = global::GrpoAspire.Tasks.Prompts.PromptTemplate.Compact;

    public SolverTraceOptions Traces { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting and its valid range.</summary>
    public void Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new ArgumentException(message);
            }
        }

        Require(!string.IsNullOrWhiteSpace(OutputDirectory), "the output folder is required");
        Require(Tasks >= 1, $"tasks must be >= 1, got {Tasks}");
        Require(Steps >= 1, $"steps must be >= 1, got {Steps}");
        Require(BatchSize >= 1, $"batch size must be >= 1, got {BatchSize}");
        Require(SeqLen >= 16, $"sequence length must be >= 16, got {SeqLen}");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"learning rate must be > 0, got {LearningRate}");
        Require(WarmupRatio is >= 0 and < 1, $"warm-up ratio must be in [0, 1), got {WarmupRatio}");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), $"weight decay must be >= 0, got {WeightDecay}");
        Require(MaxGradNorm >= 0 && double.IsFinite(MaxGradNorm), $"max grad norm must be >= 0 (0 = no clipping), got {MaxGradNorm}");
        Require(Dtype is "float32" or "bfloat16", $"dtype '{Dtype}' is not valid; valid: float32, bfloat16");
        Require(Seed >= 0, $"seed must be >= 0, got {Seed}");
        Require(EvalEvery >= 0 && EvalTasks >= 0 && EvalSamples >= 0, "eval every, eval tasks and eval samples must be >= 0");
        Require(EvalMaxNewTokens >= 1, $"eval max new tokens must be >= 1, got {EvalMaxNewTokens}");
        Require(SaveEvery >= 0, $"save every must be >= 0, got {SaveEvery}");
        Require(LogEvery >= 1, $"log every must be >= 1, got {LogEvery}");
        _ = global::GrpoAspire.Tasks.Prompts.PromptTemplate.Get(PromptTemplate);
        Traces.Validate();
        if (InitModel is null)
        {
            _ = ModelResolver.RandomConfig(ModelConfig);
        }
        else
        {
            Require(File.Exists(Path.Combine(InitModel, "config.json")),
                $"'{InitModel}' is not a Hugging Face model folder (no config.json)");
        }
    }
}
