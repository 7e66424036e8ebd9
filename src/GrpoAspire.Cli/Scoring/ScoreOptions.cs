using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Cli.Scoring;

/// <summary>Settings of <c>grpo score</c>.</summary>
public sealed record ScoreOptions
{
    /// <summary>1 MiB: far above any completion a 1k-4k token budget produces.</summary>
    public const int DefaultMaxCompletionBytes = 1 << 20;

    /// <summary>Keeps the longest line (6 JSON characters per byte at worst) within one .NET array.</summary>
    public const int LargestMaxCompletionBytes = 64 << 20;

    public static ScoreOptions Default { get; } = new();

    public IReadOnlyList<RewardWeight> Weights { get; init; } = RewardWeight.SeedDefaults;

    /// <summary>The longest completion, in UTF-8 bytes after JSON unescaping; longer ones are error lines.</summary>
    public int MaxCompletionBytes { get; init; } = DefaultMaxCompletionBytes;

    /// <summary>
    /// The longest input line read into memory, in bytes: the completion escaped at worst as <c>\u00XX</c> per byte,
    /// plus room for the other fields. Longer lines are skipped unread as errors.
    /// </summary>
    internal int MaxLineBytes => checked((MaxCompletionBytes * 6) + (64 * 1024));

    public void Validate()
    {
        if (MaxCompletionBytes < 1 || MaxCompletionBytes > LargestMaxCompletionBytes)
        {
            throw new ArgumentException(
                $"the completion limit must be from 1 to {LargestMaxCompletionBytes} bytes, got {MaxCompletionBytes}");
        }

        _ = new CountdownScorer(Weights); // validates the weights
    }
}

/// <summary>What a score run did: every non-blank line is either scored or an error line.</summary>
public readonly record struct ScoreSummary(long Lines, long Scored, long Errors);
