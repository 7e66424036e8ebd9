using GrpoAspire.Contracts.V1;
using GrpoAspire.Generation.Options;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Generation.Rollouts;

/// <summary>The completions of one job, before scoring.</summary>
internal sealed record SampledJob(RolloutJob Job, IReadOnlyList<GeneratedSequence> Sequences);

/// <summary>
/// Turns rollout jobs into sampler calls: jobs with the same sampling settings share batches of at most
/// <c>MaxBatchSequences</c> sequences (each prompt repeated num_generations times), or, with <c>MaxBatchRows</c> &gt; 0,
/// one continuous batch whose finished rows are refilled from the waiting jobs, as vLLM does across requests.
/// </summary>
internal static class RolloutSampling
{
    /// <summary>
    /// Why <paramref name="promptTokens"/> + <paramref name="maxNewTokens"/> do not fit the model's context, or null when
    /// they do. Past <c>max_position_embeddings</c> a model samples from positions it never saw in training, and the cache
    /// grows beyond what the model was sized for: such a request is refused, not truncated.
    /// </summary>
    public static string? ContextProblem(int promptTokens, int maxNewTokens, int contextLength) =>
        (long)promptTokens + maxNewTokens <= contextLength
            ? null
            : $"prompt {promptTokens} tokens + max_new_tokens {maxNewTokens} = {(long)promptTokens + maxNewTokens} "
              + $"exceeds the model's context of {contextLength} positions (max_position_embeddings)";

    /// <summary>Why a job cannot be sampled, or null when it can.</summary>
    /// <param name="contextLength">The model's <c>max_position_embeddings</c>.</param>
    public static string? Problem(RolloutJob job, GenerationOptions options, int vocabularySize, int contextLength)
    {
        if (job.Incarnation.Length == 0)
        {
            return $"job {job.JobId}: no incarnation (the trainer process whose weights must sample it)";
        }

        if (job.PromptTokenIds.Count == 0 || job.PromptTokenIds.Count > options.MaxPromptTokens)
        {
            return $"job {job.JobId}: prompt has {job.PromptTokenIds.Count} tokens; allowed 1..{options.MaxPromptTokens}";
        }

        if (job.PromptTokenIds.Any(id => id < 0 || id >= vocabularySize))
        {
            return $"job {job.JobId}: a prompt token id is outside the vocabulary (0..{vocabularySize - 1})";
        }

        if (job.NumGenerations < 1 || job.NumGenerations > options.MaxGenerations)
        {
            return $"job {job.JobId}: num_generations {job.NumGenerations}; allowed 1..{options.MaxGenerations}";
        }

        var sampling = job.Sampling;
        if (sampling is null)
        {
            return $"job {job.JobId}: no sampling settings";
        }

        if (sampling.MaxNewTokens < 1 || sampling.MaxNewTokens > options.MaxNewTokens)
        {
            return $"job {job.JobId}: max_new_tokens {sampling.MaxNewTokens}; allowed 1..{options.MaxNewTokens}";
        }

        if (ContextProblem(job.PromptTokenIds.Count, sampling.MaxNewTokens, contextLength) is { } tooLong)
        {
            return $"job {job.JobId}: {tooLong}";
        }

        try
        {
            Parameters(sampling).Validate();
        }
        catch (ArgumentException e)
        {
            return $"job {job.JobId}: {e.Message}";
        }

        return null;
    }

    public static SamplingParams Parameters(SamplingSettings sampling) => new()
    {
        Temperature = sampling.Temperature,
        TopP = sampling.TopP == 0 ? 1.0 : sampling.TopP,
        TopK = sampling.TopK,
        MaxNewTokens = sampling.MaxNewTokens,
        EosTokenIds = sampling.EosTokenIds.ToArray(),
        Seed = unchecked((long)sampling.Seed),
    };

    /// <summary>
    /// Samples every job (already checked with <see cref="Problem"/>); results in the order of <paramref name="jobs"/>.
    /// With <paramref name="maxBatchRows"/> &gt; 0, continuously batched (<see cref="SampleContinuous"/>); otherwise in
    /// consecutive batches of at most <paramref name="maxBatchSequences"/> sequences.
    /// </summary>
    /// <param name="decoding">The samplers' decode options; null = <see cref="DecodeOptions.FromEnvironment"/>.</param>
    /// <param name="cancellationToken">Checked between decode steps (the replica shutting down).</param>
    public static IReadOnlyList<SampledJob> Sample(
        Qwen2ForCausalLM model, IReadOnlyList<RolloutJob> jobs, int maxBatchSequences, int maxBatchRows = 0, DecodeOptions? decoding = null,
        CancellationToken cancellationToken = default)
    {
        if (maxBatchRows > 0)
        {
            return SampleContinuous(model, jobs, maxBatchRows, decoding, cancellationToken);
        }

        var sampler = new Sampler(model, options: decoding);
        var results = new Dictionary<RolloutJob, SampledJob>(ReferenceEqualityComparer.Instance);
        foreach (var batch in SamplingBatches(jobs, maxBatchSequences))
        {
            // The batch's seed is its first job's: jobs sampled together share one random stream.
            var parameters = Parameters(batch[0].Sampling);
            var prompts = batch.SelectMany(j => Enumerable.Repeat((IReadOnlyList<int>)j.PromptTokenIds.ToArray(), j.NumGenerations)).ToArray();
            var sequences = sampler.Generate(prompts, parameters, cancellationToken: cancellationToken);
            var offset = 0;
            foreach (var job in batch)
            {
                results[job] = new SampledJob(job, sequences.Skip(offset).Take(job.NumGenerations).ToArray());
                offset += job.NumGenerations;
            }
        }

        return jobs.Select(j => results[j]).ToArray();
    }

    /// <summary>
    /// Continuous batching: jobs whose settings match but for the seed and max_new_tokens share one
    /// <see cref="ContinuousSampler"/> call with <paramref name="maxBatchRows"/> rows; each job is one request (one
    /// prefill for its num_generations samples) with its own limit and its own seed, so a job's completions depend on
    /// the job alone, not on the jobs sampled beside it.
    /// </summary>
    public static IReadOnlyList<SampledJob> SampleContinuous(
        Qwen2ForCausalLM model, IReadOnlyList<RolloutJob> jobs, int maxBatchRows, DecodeOptions? decoding = null,
        CancellationToken cancellationToken = default)
    {
        var sampler = new ContinuousSampler(model, options: decoding);
        var results = new Dictionary<RolloutJob, SampledJob>(ReferenceEqualityComparer.Instance);
        foreach (var group in jobs.GroupBy(j => ContinuousKey(j.Sampling)))
        {
            var groupJobs = group.ToArray();
            var requests = groupJobs.Select(j => new SamplingRequest(j.PromptTokenIds.ToArray(), j.NumGenerations)
            {
                MaxNewTokens = j.Sampling.MaxNewTokens,
                Seed = unchecked((long)j.Sampling.Seed),
            }).ToArray();
            var sequences = sampler.Generate(requests, Parameters(groupJobs[0].Sampling), maxBatchRows, cancellationToken: cancellationToken).Sequences;
            for (var i = 0; i < groupJobs.Length; i++)
            {
                results[groupJobs[i]] = new SampledJob(groupJobs[i], sequences[i]);
            }
        }

        return jobs.Select(j => results[j]).ToArray();
    }

    /// <summary>The settings jobs must share to be continuously batched: all but the seed and max_new_tokens (per request there).</summary>
    internal static SamplingSettings ContinuousKey(SamplingSettings settings)
    {
        var key = BatchKey(settings);
        key.MaxNewTokens = 0;
        return key;
    }

    /// <summary>
    /// The sampler calls for <paramref name="jobs"/>: jobs whose settings match but for the seed share calls of up to
    /// <paramref name="maxSequences"/> sequences (a step's jobs differ only in their seeds, so they go together).
    /// </summary>
    internal static IEnumerable<RolloutJob[]> SamplingBatches(IReadOnlyList<RolloutJob> jobs, int maxSequences) =>
        jobs.GroupBy(j => BatchKey(j.Sampling)).SelectMany(same => Batches(same.ToArray(), maxSequences));

    /// <summary>The settings jobs must share to be sampled in one batch: all but the seed (the batch takes its first job's).</summary>
    internal static SamplingSettings BatchKey(SamplingSettings settings)
    {
        var key = settings.Clone();
        key.Seed = 0;
        return key;
    }

    /// <summary>Consecutive jobs whose sequences fit <paramref name="maxSequences"/> (a larger job goes alone).</summary>
    internal static IEnumerable<RolloutJob[]> Batches(IReadOnlyList<RolloutJob> jobs, int maxSequences)
    {
        var batch = new List<RolloutJob>();
        var size = 0;
        foreach (var job in jobs)
        {
            if (batch.Count > 0 && size + job.NumGenerations > maxSequences)
            {
                yield return batch.ToArray();
                batch.Clear();
                size = 0;
            }

            batch.Add(job);
            size += job.NumGenerations;
        }

        if (batch.Count > 0)
        {
            yield return batch.ToArray();
        }
    }

    public static string WireName(FinishReason reason) => reason switch
    {
        FinishReason.Eos => "eos",
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "valid: Eos, Stop, Length"),
    };
}
