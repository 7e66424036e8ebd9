using System.ComponentModel.DataAnnotations;
using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Generation.Options;

/// <summary>Settings of a generation replica (section <c>Generation</c>).</summary>
public sealed record GenerationOptions
{
    public const string SectionName = "Generation";

    /// <summary>The run whose Redis keys (<c>grpo:{run}:*</c>) this replica serves.</summary>
    [Required, RegularExpression("^[A-Za-z0-9_.-]{1,64}$")]
    public string Run { get; init; } = "default";

    /// <summary>Hugging Face folder of the starting policy (the trainer's model): config.json, safetensors, tokenizer.json.</summary>
    [Required]
    public string ModelPath { get; init; } = string.Empty;

    [Required]
    public string Device { get; init; } = "cpu";

    [Required, RegularExpression("^(float32|bfloat16)$")]
    public string Dtype { get; init; } = "float32";

    /// <summary>This replica's consumer name in the job group; default: host name and process id.</summary>
    public string? Replica { get; init; }

    /// <summary>Most sequences (prompts x generations) sampled together.</summary>
    [Range(1, 65_536)]
    public int MaxBatchSequences { get; init; } = 256;

    /// <summary>
    /// Rows of the continuous batch that samples rollout jobs (<see cref="GrpoAspire.Model.Sampling.ContinuousSampler"/>): at
    /// most this many sequences decode at once, a finished one is replaced by a waiting one. 0 = off: jobs are sampled
    /// in consecutive batches of <see cref="MaxBatchSequences"/> sequences by the batch-at-once sampler. Unset (the
    /// default): see <see cref="BatchRowsOn"/>.
    /// </summary>
    [Range(0, 65_536)]
    public int? MaxBatchRows { get; init; }

    /// <summary>
    /// The continuous batch's rows on <paramref name="device"/> (0 = off): <see cref="MaxBatchRows"/> when set, else
    /// <see cref="MaxBatchSequences"/> rows on a CPU, where continuous batching gave 1.2-1.4x the batch sampler's tokens/s
    /// on the aha recipe's rollouts (level at a fixed 256 tokens; benchmarks/results/aha-rollouts-engines-cpu-*.json),
    /// and off elsewhere: on CUDA the batch sampler replays a CUDA graph per step, which the continuous one has not, and
    /// the two were not compared there.
    /// </summary>
    public int BatchRowsOn(TorchSharp.torch.Device device) =>
        MaxBatchRows ?? (device.type == TorchSharp.DeviceType.CPU ? MaxBatchSequences : 0);

    /// <summary>
    /// Decode loop of the batch-at-once sampler: auto (graph on CUDA, eager on a CPU), eager, fixed or graph
    /// (<see cref="DecodeLoopMode"/>). <c>GRPO_DECODE_LOOP</c> overrides it.
    /// </summary>
    [Required]
    public string DecodeLoop { get; init; } = "auto";

    /// <summary>
    /// Attention of a one-token decode step: grouped, sdpa or sdpa-static (<see cref="GrpoAspire.Model.Qwen2.DecodeAttentionMode"/>).
    /// <c>GRPO_DECODE_ATTENTION</c> overrides it.
    /// </summary>
    [Required]
    public string DecodeAttention { get; init; } = "grouped";

    /// <summary>Most jobs taken from the stream at once.</summary>
    [Range(1, 4096)]
    public int MaxJobsPerBatch { get; init; } = 64;

    [Range(1, 131_072)]
    public int MaxPromptTokens { get; init; } = 4096;

    [Range(1, 131_072)]
    public int MaxNewTokens { get; init; } = 4096;

    /// <summary>Most completions per prompt (num_generations of a job, n of Generate).</summary>
    [Range(1, 4096)]
    public int MaxGenerations { get; init; } = 256;

    [Range(1, 60_000)]
    public int PollIntervalMilliseconds { get; init; } = 50;

    /// <summary>A job pending on a replica that long is taken over (the replica is presumed dead).</summary>
    [Range(1, 86_400)]
    public int ReclaimIdleSeconds { get; init; } = 30;

    /// <summary>How long a job may wait for the weights version it needs.</summary>
    [Range(1, 86_400)]
    public int WeightsTimeoutSeconds { get; init; } = 600;

    /// <summary>
    /// Streams each weights pull is split over, each on its own connection to the trainer and carrying its share of
    /// the tensors (<see cref="GrpoAspire.WeightSync.WeightShards"/>); 1 = one stream.
    /// </summary>
    [Range(1, GrpoAspire.WeightSync.WeightShards.MaxShards)]
    public int WeightStreams { get; init; } = 1;

    /// <summary>
    /// Most <c>Generate</c> calls admitted at once on this replica, running or waiting for their turn on the model; one
    /// more is refused with RESOURCE_EXHAUSTED. Calls share the model with the rollout jobs, one at a time, so each
    /// admitted call can delay a training step by its whole length.
    /// </summary>
    [Range(1, 1024)]
    public int MaxConcurrentGenerateCalls { get; init; } = 4;

    /// <summary>
    /// Most requested tokens of the admitted <c>Generate</c> calls together, a call counting sequences x (longest prompt +
    /// max_new_tokens): the KV-cache positions it allocates and the most decode work it can ask for. Past it a call is
    /// refused with RESOURCE_EXHAUSTED. The default is 256 sequences of 2048 positions (6.4 GB of KV cache for a 0.5B
    /// Qwen2.5 in bf16); lower it for larger models.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxGenerateTokensInFlight { get; init; } = 524_288;

    /// <summary>
    /// Bearer token of the run (configuration <c>Security:Token</c> when unset here): callers of <c>Generate</c> must
    /// present it, and the replica presents it to the trainer's weight RPCs. A replica without one does not start.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>Set false to serve <c>Generate</c> only (no Redis jobs).</summary>
    public bool ConsumeJobs { get; init; } = true;

    /// <summary>The decode settings as configured, with the environment's overrides; throws on a name that is not valid.</summary>
    public DecodeOptions Decode() => new DecodeOptions
    {
        Loop = DecodeOptions.ParseLoop(DecodeLoop, $"{SectionName}:{nameof(DecodeLoop)}"),
        Attention = DecodeOptions.ParseAttention(DecodeAttention, $"{SectionName}:{nameof(DecodeAttention)}"),
    }.WithEnvironment();

    public string ReplicaName => Replica is { Length: > 0 } name ? name : $"{Environment.MachineName}-{Environment.ProcessId}";
}
