using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Prompts left-padded and completions right-padded into one [N, P + C] batch, with the masks GRPO needs.
/// The completion mask covers every sampled token (the end-of-sequence token included, as TRL); with
/// mask_truncated_completions, completions cut by max length are masked out entirely (DAPO).
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    private TrainingBatch(
        Tensor inputIds, Tensor keyPadding, Tensor positionIds, Tensor completionIds, Tensor completionMask, Tensor samplingLogps, int promptLength)
    {
        SamplingLogps = samplingLogps;
        InputIds = inputIds;
        KeyPadding = keyPadding;
        PositionIds = positionIds;
        CompletionIds = completionIds;
        CompletionMask = completionMask;
        PromptLength = promptLength;
    }

    public Tensor InputIds { get; }        // [N, P + C]

    public Tensor KeyPadding { get; }      // [N, P + C]

    public Tensor PositionIds { get; }     // [N, P + C]

    public Tensor CompletionIds { get; }   // [N, C]

    public Tensor CompletionMask { get; }  // [N, C] float

    /// <summary>The sampler's log-prob of each completion token when it drew it (0 on padding).</summary>
    public Tensor SamplingLogps { get; }   // [N, C] float

    public int PromptLength { get; }

    public int CompletionLength => (int)CompletionIds.shape[1];

    public static TrainingBatch Build(
        IReadOnlyList<IReadOnlyList<int>> promptIds, IReadOnlyList<ScoredCompletion> completions, int padTokenId,
        bool maskTruncated, Device device)
    {
        if (promptIds.Count != completions.Count || completions.Count == 0)
        {
            throw new ArgumentException($"{promptIds.Count} prompts for {completions.Count} completions");
        }

        var n = completions.Count;
        var p = promptIds.Max(x => x.Count);
        var c = System.Math.Max(1, completions.Max(x => x.TokenIds.Length));
        var ids = new long[n * (p + c)];
        var padding = new long[n * (p + c)];
        var completionIds = new long[n * c];
        var completionMask = new float[n * c];
        var samplingLogps = new float[n * c];
        Array.Fill(ids, padTokenId);
        Array.Fill(completionIds, padTokenId);
        for (var row = 0; row < n; row++)
        {
            var prompt = promptIds[row];
            var rowStart = row * (p + c);
            for (var i = 0; i < prompt.Count; i++)
            {
                ids[rowStart + p - prompt.Count + i] = prompt[i];
                padding[rowStart + p - prompt.Count + i] = 1;
            }

            var completion = completions[row];
            if (completion.SamplingLogProbs.Length != completion.TokenIds.Length)
            {
                throw new ArgumentException(
                    $"a completion of prompt {completion.PromptIndex} has {completion.SamplingLogProbs.Length} sampling log-probs for {completion.TokenIds.Length} tokens");
            }

            Array.Copy(completion.SamplingLogProbs, 0, samplingLogps, row * c, completion.TokenIds.Length);
            var masked = maskTruncated && completion.FinishReason == FinishReason.Length;
            for (var i = 0; i < completion.TokenIds.Length; i++)
            {
                ids[rowStart + p + i] = completion.TokenIds[i];
                padding[rowStart + p + i] = 1;
                completionIds[(row * c) + i] = completion.TokenIds[i];
                completionMask[(row * c) + i] = masked ? 0f : 1f;
            }
        }

        var inputIds = tensor(ids, [n, p + c], dtype: ScalarType.Int64, device: device);
        var keyPadding = tensor(padding, [n, p + c], dtype: ScalarType.Int64, device: device);
        var positions = Model.Qwen2.AttentionMask.PositionIds(keyPadding);
        return new TrainingBatch(
            inputIds.DetachFromDisposeScope(),
            keyPadding.DetachFromDisposeScope(),
            positions.DetachFromDisposeScope(),
            tensor(completionIds, [n, c], dtype: ScalarType.Int64, device: device).DetachFromDisposeScope(),
            tensor(completionMask, [n, c], dtype: ScalarType.Float32, device: device).DetachFromDisposeScope(),
            tensor(samplingLogps, [n, c], dtype: ScalarType.Float32, device: device).DetachFromDisposeScope(),
            p);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        KeyPadding.Dispose();
        PositionIds.Dispose();
        CompletionIds.Dispose();
        CompletionMask.Dispose();
        SamplingLogps.Dispose();
    }
}
