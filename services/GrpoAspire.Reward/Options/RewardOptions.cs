using System.ComponentModel.DataAnnotations;

namespace GrpoAspire.Reward.Options;

/// <summary>Limits and defaults of the reward service (section <c>Reward</c>).</summary>
public sealed record RewardOptions
{
    public const string SectionName = "Reward";

    /// <summary>
    /// Ceiling of one gRPC message. A batch of 4096 completions of 64 KiB each (the two defaults) would be
    /// 256 MiB; real completions are a few KiB, so 64 MiB keeps a whole GRPO step in one call while bounding
    /// what one request can make the server buffer.
    /// </summary>
    public const int MaxMessageBytesCap = 64 * 1024 * 1024;

    /// <summary>Room per completion for its id, its record and protobuf framing.</summary>
    public const int CompletionOverheadBytes = Tasks.TaskRecord.MaxJsonBytes + 1024;

    /// <summary>Most UTF-8 bytes in one completion's text.</summary>
    [Range(1, int.MaxValue)]
    public int MaxCompletionBytes { get; init; } = 64 * 1024;

    /// <summary>Most completions in one <c>Score</c> call or one <c>ScoreStream</c> message.</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchSize { get; init; } = 4096;

    /// <summary>
    /// Most bytes of request messages held at once, over all calls: a message is admitted by its gRPC length prefix,
    /// before it is buffered, and refused with <c>RESOURCE_EXHAUSTED</c> when it does not fit. A message costs about
    /// 3x its size while it is scored (the buffered bytes, then its text as UTF-16 strings), so the default of 96 MiB
    /// keeps the service's peak RSS under the 512 Mi limit of its Kubernetes Deployment; at least the receive limit.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxInFlightMessageBytes { get; init; } = 96 * 1024 * 1024;

    /// <summary>
    /// Seconds an admitted message has to arrive whole, from its length prefix: a caller that announces a large message
    /// and sends it slowly (or never) would otherwise hold that much of <see cref="MaxInFlightMessageBytes"/>. 64 MiB
    /// over a 100 Mbit/s link takes about 5 s.
    /// </summary>
    [Range(1, 3600)]
    public int MessageReceiveSeconds { get; init; } = 30;

    /// <summary>
    /// The gRPC receive limit: a full batch of the largest completions, capped at <see cref="MaxMessageBytesCap"/>.
    /// </summary>
    public int MaxReceiveMessageBytes =>
        (int)Math.Min((long)MaxBatchSize * ((long)MaxCompletionBytes + CompletionOverheadBytes), MaxMessageBytesCap);
}
