namespace GrpoAspire.Model.Sampling;

/// <summary>One prompt of a continuous batch, to be completed <see cref="Samples"/> times (one prefill, one row per sample).</summary>
public sealed record SamplingRequest(IReadOnlyList<int> PromptIds, int Samples = 1)
{
    /// <summary>This request's limit on new tokens; null: the call's <see cref="SamplingParams.MaxNewTokens"/>.</summary>
    public int? MaxNewTokens { get; init; }

    /// <summary>
    /// This request's random seed; null: derived from the call's <see cref="SamplingParams.Seed"/> and the request's index.
    /// With a seed of its own, a request's completions do not depend on the other requests or on its place in the list.
    /// </summary>
    public long? Seed { get; init; }
}

/// <summary>What a continuous batch did: its cache's size, the decode steps, how full the rows were.</summary>
/// <param name="Rows">Rows of the slot cache (at most the call's maxBatchRows).</param>
/// <param name="Capacity">Positions per row.</param>
/// <param name="DecodeSteps">Decode forwards (one token for every active row).</param>
/// <param name="DecodedRows">Rows summed over the decode steps.</param>
/// <param name="Prefills">Prompt forwards (one per request).</param>
/// <param name="Moves">Rows moved to fill holes once no request waited.</param>
public sealed record ContinuousBatchStats(int Rows, int Capacity, int DecodeSteps, long DecodedRows, int Prefills, int Moves)
{
    /// <summary>Active rows per decode step over the cache's rows (1 = every row busy every step).</summary>
    public double MeanOccupancy => DecodeSteps == 0 ? 0 : (double)DecodedRows / ((long)DecodeSteps * Rows);
}

/// <summary>The completions of each request, in request order and sample order, and the batch's statistics.</summary>
public sealed record ContinuousResults(IReadOnlyList<IReadOnlyList<GeneratedSequence>> Sequences, ContinuousBatchStats Stats);

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014, "Fast splittable pseudorandom number generators"): one small stream per
/// sequence, drawn on the host, so a sequence's samples do not depend on which rows share its decode steps.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public static SplitMix64 ForSample(ulong requestSeed, int sample) => new(Mix(Mix(requestSeed) + (ulong)sample));

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in (0, 1] (never 0, so a token of probability 0 is never the inverse-CDF pick).</summary>
    public double NextUnit() => ((Next() >> 11) + 1) * (1.0 / (1UL << 53));
}
