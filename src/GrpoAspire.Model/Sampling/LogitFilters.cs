using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>Top-k and top-p (nucleus) filtering of logits [B, V], as transformers' logits warpers.</summary>
public static class LogitFilters
{
    public static Tensor TopK(Tensor logits, int k)
    {
        if (k <= 0 || k >= logits.shape[^1])
        {
            return logits;
        }

        var threshold = logits.topk(k, dim: -1).values.narrow(-1, k - 1, 1); // [B, 1]
        return logits.masked_fill(logits.lt(threshold), double.NegativeInfinity);
    }

    /// <summary>Keeps the most likely tokens until their probability reaches <paramref name="p"/> (at least one).</summary>
    public static Tensor TopP(Tensor logits, double p)
    {
        if (p >= 1.0)
        {
            return logits;
        }

        var (sorted, order) = logits.sort(dim: -1, descending: true);
        var cumulative = sorted.softmax(-1).cumsum(-1);
        // A token is dropped when the tokens before it already reach p; the first token always stays.
        var before = cumulative - sorted.softmax(-1);
        var dropSorted = before.ge(p);
        var drop = zeros_like(dropSorted).scatter(-1, order, dropSorted);
        return logits.masked_fill(drop, double.NegativeInfinity);
    }
}
