namespace GrpoAspire.Model.Sampling;

/// <summary>How to sample completions. Temperature 0 means greedy.</summary>
public sealed record SamplingParams
{
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probability reaches TopP (1 = off).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Keep only the K most likely tokens (0 = off).</summary>
    public int TopK { get; init; }

    public int MaxNewTokens { get; init; } = 256;

    /// <summary>Tokens that end a sequence (included in the output, as transformers and TRL do).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Texts that end a sequence once the decoded completion contains them.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    public long Seed { get; init; }

    public void Validate()
    {
        if (Temperature < 0 || !double.IsFinite(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be >= 0 (0 = greedy)");
        }

        if (TopP is <= 0 or > 1 || double.IsNaN(TopP))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top_p must be in (0, 1]");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(TopK, nameof(TopK));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxNewTokens, nameof(MaxNewTokens));
    }
}

public enum FinishReason
{
    /// <summary>An end-of-sequence token was sampled.</summary>
    Eos,

    /// <summary>The decoded text reached a stop string.</summary>
    Stop,

    /// <summary>MaxNewTokens was reached.</summary>
    Length,
}

/// <summary>One completion: its tokens, the log-probability of each under the sampling temperature, why it ended.</summary>
public sealed record GeneratedSequence(int[] TokenIds, float[] LogProbs, FinishReason FinishReason);
