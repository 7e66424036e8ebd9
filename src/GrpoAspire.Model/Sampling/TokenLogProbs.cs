using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>
/// Per-token log-probabilities log softmax(z / T)[target] of given tokens. <see cref="FromHidden"/> never holds a
/// float32 [tokens, vocab] tensor beyond one chunk, in the forward or the backward pass.
/// </summary>
public static class TokenLogProbs
{
    public const int DefaultChunkTokens = 1024;

    /// <summary>Plain version over full logits [B, T, V] (reference, small vocabularies).</summary>
    public static Tensor FromLogits(Tensor logits, Tensor targets, double temperature = 1.0)
    {
        using var scope = NewDisposeScope();
        var scaled = logits.to(ScalarType.Float32) / temperature;
        var logProbs = scaled.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);
        return logProbs.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// log-probs [B, T] (float32) of <paramref name="targets"/> [B, T] from hidden states [B, T, H] and the output
    /// projection <paramref name="weight"/> [V, H], differentiable in both, computed chunk by chunk.
    /// </summary>
    public static Tensor FromHidden(
        Tensor hidden, Tensor weight, Tensor targets, double temperature = 1.0, int chunkTokens = DefaultChunkTokens)
    {
        if (temperature <= 0 || double.IsNaN(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkTokens);
        return ChunkedLogProbFunction.apply(hidden, weight, targets, temperature, chunkTokens);
    }
}

/// <summary>
/// Custom autograd function: the forward keeps no graph; the backward recomputes each chunk's logits and uses
/// d logp / d z = onehot(target) - softmax(z), so memory stays at one chunk of logits.
/// </summary>
internal sealed class ChunkedLogProbFunction : autograd.SingleTensorFunction<ChunkedLogProbFunction>
{
    public override string Name => nameof(ChunkedLogProbFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (hidden, weight, targets, temperature, chunk) = Unpack(vars);
        ctx.save_for_backward([hidden, weight, targets]);
        ctx.save_data("temperature", temperature);
        ctx.save_data("chunk", chunk);
        using var noGrad = no_grad();
        var rows = hidden.reshape(-1, hidden.shape[^1]); // [N, H]
        var flatTargets = targets.reshape(-1); // [N]
        var pieces = new List<Tensor>();
        for (long start = 0; start < rows.shape[0]; start += chunk)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(chunk, rows.shape[0] - start);
            var z = Scaled(nn.functional.linear(rows.narrow(0, start, length), weight).to(ScalarType.Float32), temperature); // [c, V]
            var picked = z.gather(1, flatTargets.narrow(0, start, length).unsqueeze(1)).squeeze(1); // [c]
            pieces.Add((picked - z.logsumexp(1)).MoveToOuterDisposeScope());
        }

        var result = cat(pieces, 0).view(targets.shape);
        foreach (var piece in pieces)
        {
            piece.Dispose();
        }

        return result;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        // On a GPU the autograd engine calls this on its own thread, where no caller's dispose scope exists: every
        // tensor made here (the unpacked saved inputs, the float32 weight gradient) would otherwise wait for the
        // garbage collector, which GPU memory pressure never wakes (the seed's 3B step ran out of 141 GB that way).
        // The gradients returned still do there; the caller frees them after backward() with EngineHandles.Release.
        using var backwardScope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var (hidden, weight, targets) = (saved[0], saved[1], saved[2]);
        var temperature = (double)ctx.get_data("temperature");
        var chunk = (int)ctx.get_data("chunk");
        var rows = hidden.reshape(-1, hidden.shape[^1]); // [N, H]
        var flatTargets = targets.reshape(-1);
        var grad = gradOutput.reshape(-1).to(ScalarType.Float32); // [N]
        var gradRows = zeros_like(rows);
        var gradWeight = zeros(weight.shape, dtype: ScalarType.Float32, device: weight.device);
        for (long start = 0; start < rows.shape[0]; start += chunk)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(chunk, rows.shape[0] - start);
            var h = rows.narrow(0, start, length);
            var z = Scaled(nn.functional.linear(h, weight).to(ScalarType.Float32), temperature); // [c, V]
            var g = grad.narrow(0, start, length).unsqueeze(1); // [c, 1]
            // d logp / d z = onehot - softmax; chain through the 1/T scaling.
            var dz = Scaled(z.softmax(1).mul_(-g).scatter_add_(1, flatTargets.narrow(0, start, length).unsqueeze(1), g), temperature);
            // Both products in the model's dtype, as autograd would do them (bf16 on tensor cores on a GPU, with float32
            // accumulation inside the GEMM); the weight gradient is summed over chunks in float32. Done in float32, the
            // [V, c] x [c, H] product is 279 GFLOP per 1,024-token chunk at Qwen2.5-0.5B's shape, at float32 rather than
            // tensor-core speed (by arithmetic ~17 ms of a B8 x T512 step on an H200; not measured apart).
            var dzLow = dz.to(h.dtype);
            gradRows.narrow(0, start, length).copy_(dzLow.mm(weight));
            gradWeight.add_(dzLow.t().mm(h));
        }

        return [gradRows.view(hidden.shape).MoveToOuterDisposeScope(), gradWeight.to(weight.dtype).MoveToOuterDisposeScope(), null!, null!, null!];
    }

    /// <summary>z / T in place on a fresh float32 tensor; at T = 1 nothing (a pass over [c, V] that changes nothing).</summary>
    private static Tensor Scaled(Tensor z, double temperature) => temperature == 1.0 ? z : z.div_(temperature);

    private static (Tensor Hidden, Tensor Weight, Tensor Targets, double Temperature, int Chunk) Unpack(object[] vars) =>
        ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (double)vars[3], (int)vars[4]);
}
