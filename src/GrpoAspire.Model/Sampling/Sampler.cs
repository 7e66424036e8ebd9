using GrpoAspire.Model.Qwen2;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>
/// Batched sampling with a preallocated KV cache: prompts of different lengths are left-padded (position ids
/// from the mask), one forward per new token, and rows that finish are dropped from the batch and the cache.
/// Seeded: the same prompts, parameters and seed give the same completions.
/// </summary>
/// <param name="decode">Token ids to text, for stop strings.</param>
/// <param name="options">The decode loop and attention; null = <see cref="DecodeOptions.FromEnvironment"/> (defaults, or the environment's overrides).</param>
public sealed class Sampler(Qwen2ForCausalLM model, Func<IReadOnlyList<int>, string>? decode = null, DecodeOptions? options = null)
{
    /// <summary>The decode loop and attention every call uses.</summary>
    public DecodeOptions Options { get; } = options ?? DecodeOptions.FromEnvironment();

    /// <param name="onFinished">Called with (row, sequence) as each row finishes, before the others (for streaming).</param>
    /// <param name="cancellationToken">Checked before the prompt's forward and before every decode step: a cancelled call
    /// throws <see cref="OperationCanceledException"/> within one step, so a caller that went away stops costing compute.</param>
    public IReadOnlyList<GeneratedSequence> Generate(
        IReadOnlyList<IReadOnlyList<int>> prompts, SamplingParams parameters, Action<int, GeneratedSequence>? onFinished = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        parameters.Validate();
        if (parameters.StopStrings.Count > 0 && decode is null)
        {
            throw new ArgumentException("stop strings need a decoder: construct the sampler with one");
        }

        if (prompts.Count == 0)
        {
            return [];
        }

        TorchRuntime.UseConfiguredThreads();

        if (prompts.Any(p => p.Count == 0))
        {
            throw new ArgumentException("every prompt needs at least one token", nameof(prompts));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var device = model.OutputWeight.device;
        var dtype = model.OutputWeight.dtype;
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        // TorchSharp's generators are CPU-only: on CUDA the default CUDA generator is seeded per call instead.
        using var generator = device.type == TorchSharp.DeviceType.CPU ? new Generator((ulong)parameters.Seed) : null;
        if (generator is null)
        {
            cuda.manual_seed(parameters.Seed);
        }

        var state = new DecodeState(prompts, parameters, onFinished);
        using var cache = new KvCache(model.Config, prompts.Count, state.PromptLength + parameters.MaxNewTokens, device, dtype) { Attention = Options.Attention };
        var (inputIds, keyPadding) = LeftPad(prompts, state.PromptLength, device);
        var positions = AttentionMask.PositionIds(keyPadding);
        var nextPositions = positions.select(1, -1).unsqueeze(1); // [B, 1]
        // Only the last position's logits: the prompt's full [B, P, V] would be the largest tensor of the call (11.7 GB
        // in bf16 for the seed's 192 rows x 200 tokens at Qwen's 152k vocabulary).
        var logits = model.Logits(model.model.Forward(inputIds, positions, keyPadding, cache).select(1, -1)); // [B, V]

        var profile = SamplerProfile.Enabled ? new SamplerProfile(device) : null;
        var loop = DecodeLoop.Resolve(Options.Loop, device);
        // Fixed shapes: every row stays in the batch to the end (a finished row's tokens are dropped on the host).
        using var fixedShape = loop == DecodeLoopMode.Eager
            ? null
            : new FixedShapeDecoder(model, cache, keyPadding, nextPositions, loop == DecodeLoopMode.Graph);
        for (var step = 0; step < parameters.MaxNewTokens && state.ActiveCount > 0; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            profile?.Mark("forward");
            var (tokens, logProbs) = Pick(logits, parameters, generator);
            logits.Dispose();
            profile?.Mark("pick");
            var (picked, pickedLogProbs) = (tokens.cpu().data<long>().ToArray(), logProbs.cpu().data<float>().ToArray());
            long[]? keep = null;
            if (fixedShape is null)
            {
                keep = state.Append(picked, pickedLogProbs, decode, step + 1);
            }
            else
            {
                state.AppendRows(picked, pickedLogProbs, decode, step + 1);
            }
            profile?.Mark("host-read");
            if (state.ActiveCount == 0 || step + 1 == parameters.MaxNewTokens)
            {
                break;
            }

            if (fixedShape is not null)
            {
                logits = fixedShape.Step(tokens).MoveToOuterDisposeScope();
                continue;
            }

            if (keep is not null)
            {
                // Finished rows stop costing compute: drop them from the cache, the mask and the inputs.
                var rows = tensor(keep, dtype: ScalarType.Int64, device: device);
                cache.KeepRows(rows);
                tokens = tokens.index_select(0, rows);
                ReplaceWith(ref keyPadding, keyPadding.index_select(0, rows));
                ReplaceWith(ref nextPositions, nextPositions.index_select(0, rows));
            }

            ReplaceWith(ref nextPositions, nextPositions + 1);
            ReplaceWith(ref keyPadding, cat([keyPadding, ones_like(nextPositions)], 1));
            logits = model.Forward(tokens.unsqueeze(1), nextPositions, keyPadding, cache).select(1, -1).MoveToOuterDisposeScope();
        }

        profile?.Report();
        return state.Results();
    }

    /// <summary>Moves a tensor made in the step's scope out to the call's scope and frees the one it replaces.</summary>
    private static void ReplaceWith(ref Tensor current, Tensor next)
    {
        next = next.MoveToOuterDisposeScope();
        current.Dispose();
        current = next;
    }

    /// <summary>Chooses one token per row (<see cref="TokenChoice"/>), drawn by multinomial on the call's generator.</summary>
    private static (Tensor Tokens, Tensor LogProbs) Pick(Tensor logits, SamplingParams parameters, Generator? generator) =>
        TokenChoice.Pick(logits, parameters, probs => probs.multinomial(1, generator: generator).squeeze(-1));

    private static (Tensor InputIds, Tensor Mask) LeftPad(IReadOnlyList<IReadOnlyList<int>> prompts, int length, Device device)
    {
        var ids = new long[prompts.Count * length];
        var mask = new long[prompts.Count * length];
        for (var row = 0; row < prompts.Count; row++)
        {
            var offset = (row * length) + (length - prompts[row].Count);
            for (var i = 0; i < prompts[row].Count; i++)
            {
                ids[offset + i] = prompts[row][i];
                mask[offset + i] = 1;
            }
        }

        return (
            tensor(ids, [prompts.Count, length], dtype: ScalarType.Int64, device: device),
            tensor(mask, [prompts.Count, length], dtype: ScalarType.Int64, device: device));
    }
}
