using GrpoAspire.Model.Qwen2;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>
/// Continuous batching: more requests than fit in one batch, at most <c>maxBatchRows</c> rows decoding, and a row
/// that finishes is replaced at once by a waiting sample, so the rows stay busy while long completions run.
/// <para>
/// Each request is prefilled alone (batch 1, no padding, exactly as <see cref="Sampler"/> on that prompt), once for
/// all its samples; its keys and values are copied into free slots of a <see cref="SlotKvCache"/> allocated once
/// (rows x capacity, whatever the number of requests; see that class for the layout). A decode step feeds one token
/// per active row at the row's own position, so no row carries padding. Requests enter in order; when none waits,
/// the last rows move into the holes so the batch stays the prefix of the cache and shrinks.
/// </para>
/// <para>
/// Host work per token: one decode forward (the model's ops plus one scatter per layer and cache tensor, and a
/// mask of 4 ops), one pick, one read of the tokens and log-probs; a prefill per request and a copy per new row.
/// </para>
/// <para>
/// Randomness is drawn on the host, one SplitMix64 stream per sample (from the request's seed and the sample's
/// index), and turned into a token by inverse-CDF sampling on the device: a sample's completion depends on its
/// prompt, the parameters and its seed only, never on the other rows or on when it entered. Greedy decoding gives
/// the tokens of <see cref="Sampler"/> on each prompt alone (up to float rounding of differently shaped matmuls).
/// At temperature > 0 the streams differ from <see cref="Sampler"/>'s (multinomial on a torch generator).
/// </para>
/// </summary>
/// <param name="decode">Token ids to text, for stop strings.</param>
/// <param name="options">
/// The decode attention (the loop is this class's own: <see cref="DecodeOptions.Loop"/> is not read); null =
/// <see cref="DecodeOptions.FromEnvironment"/>.
/// </param>
public sealed class ContinuousSampler(Qwen2ForCausalLM model, Func<IReadOnlyList<int>, string>? decode = null, DecodeOptions? options = null)
{
    /// <summary>The decode attention every call uses.</summary>
    public DecodeOptions Options { get; } = options ?? DecodeOptions.FromEnvironment();

    /// <param name="requests">Prompts with their sample counts, limits and seeds.</param>
    /// <param name="parameters">Shared settings; <see cref="SamplingParams.MaxNewTokens"/> and <see cref="SamplingParams.Seed"/> are defaults a request may override.</param>
    /// <param name="maxBatchRows">Most rows decoding at once (the cache's rows).</param>
    /// <param name="capacity">Positions per row; default: the longest prompt + max new tokens among the requests.</param>
    /// <param name="onFinished">Called with (request, sample, sequence) as each sample finishes (for streaming).</param>
    /// <param name="cancellationToken">Checked before every decode step (throws <see cref="OperationCanceledException"/>).</param>
    public ContinuousResults Generate(
        IReadOnlyList<SamplingRequest> requests,
        SamplingParams parameters,
        int maxBatchRows,
        int? capacity = null,
        Action<int, int, GeneratedSequence>? onFinished = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchRows);
        if (parameters.StopStrings.Count > 0 && decode is null)
        {
            throw new ArgumentException("stop strings need a decoder: construct the sampler with one");
        }

        var columns = Capacity(requests, parameters, capacity);
        var total = requests.Sum(r => (long)r.Samples);
        if (total == 0)
        {
            return new ContinuousResults([], new ContinuousBatchStats(0, columns, 0, 0, 0, 0));
        }

        TorchRuntime.UseConfiguredThreads();
        var device = model.OutputWeight.device;
        var dtype = model.OutputWeight.dtype;
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        using var cache = new SlotKvCache(model.Config, (int)Math.Min(maxBatchRows, total), columns, device, dtype) { Attention = Options.Attention };
        using var batch = new ContinuousBatch(requests, parameters, cache, decode, onFinished);
        while (batch.Fill(Prefill, Pick) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (ids, positions, attend) = batch.StepInputs();
            var idsTensor = tensor(ids, [ids.Length, 1], dtype: ScalarType.Int64, device: device);
            var positionsTensor = tensor(positions, [positions.Length, 1], dtype: ScalarType.Int64, device: device);
            cache.BeginStep(positionsTensor, attend);
            var logits = model.ForwardSlots(idsTensor, positionsTensor, cache).select(1, -1); // [n, V]
            var (tokens, logProbs) = Pick(logits, parameters, batch.Uniforms(ids.Length));
            batch.Append(tokens.cpu().data<long>().ToArray(), logProbs.cpu().data<float>().ToArray());
        }

        return batch.Results();
    }

    /// <summary>Positions per row: the given capacity (checked against every request) or what the longest request needs.</summary>
    private static int Capacity(IReadOnlyList<SamplingRequest> requests, SamplingParams parameters, int? capacity)
    {
        var needed = 1L;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i] ?? throw new ArgumentException($"request {i} is null", nameof(requests));
            if (request.PromptIds is null || request.PromptIds.Count == 0)
            {
                throw new ArgumentException($"request {i}: every prompt needs at least one token", nameof(requests));
            }

            if (request.Samples < 1)
            {
                throw new ArgumentException($"request {i}: samples is {request.Samples}; it must be >= 1", nameof(requests));
            }

            var maxNew = request.MaxNewTokens ?? parameters.MaxNewTokens;
            if (maxNew < 1)
            {
                throw new ArgumentException($"request {i}: max new tokens is {maxNew}; it must be >= 1", nameof(requests));
            }

            var length = (long)request.PromptIds.Count + maxNew;
            if (capacity is { } given && length > given)
            {
                throw new ArgumentException(
                    $"request {i}: prompt {request.PromptIds.Count} + max new tokens {maxNew} = {length} positions exceed the capacity {given}",
                    nameof(capacity));
            }

            needed = Math.Max(needed, length);
        }

        if (capacity is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "capacity must be >= 1");
        }

        return capacity ?? (int)Math.Min(needed, int.MaxValue);
    }

    /// <summary>Forward of one prompt alone into a cache of its own; logits [1, V] of its last position.</summary>
    private (KvCache Cache, Tensor Logits) Prefill(IReadOnlyList<int> prompt)
    {
        using var scope = NewDisposeScope();
        var device = model.OutputWeight.device;
        var ids = tensor(prompt.Select(t => (long)t).ToArray(), [1, prompt.Count], dtype: ScalarType.Int64, device: device);
        var padding = ones_like(ids); // [1, P]: the same mask and positions as Sampler gives a prompt alone
        var cache = new KvCache(model.Config, 1, prompt.Count, device, model.OutputWeight.dtype) { Attention = Options.Attention };
        var logits = model.Logits(model.model.Forward(ids, AttentionMask.PositionIds(padding), padding, cache).select(1, -1)); // [1, V]: the last position's only
        return (cache, logits.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// One token per row of <paramref name="logits"/> [n, V]; log-prob under the temperature-scaled, unfiltered
    /// distribution (as <see cref="Sampler"/>). Sampling is inverse-CDF with the host's uniforms (n values in (0, 1]).
    /// </summary>
    private static (Tensor Tokens, Tensor LogProbs) Pick(Tensor logits, SamplingParams parameters, float[]? uniforms) =>
        TokenChoice.Pick(logits, parameters, uniforms is null ? null : probs =>
        {
            var vocabulary = probs.shape[^1];
            var cdf = probs.cumsum(-1); // [n, V]
            var target = tensor(uniforms, [uniforms.Length, 1], device: probs.device) * cdf.narrow(-1, vocabulary - 1, 1); // [n, 1]
            // The first token whose cumulative probability reaches the target: the count of those below it.
            return cdf.lt(target).sum(-1).clamp_max(vocabulary - 1); // [n]
        });
}
