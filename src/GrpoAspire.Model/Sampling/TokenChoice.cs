using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>How both samplers choose a row's next token; they differ only in how a token is drawn from the probabilities.</summary>
internal static class TokenChoice
{
    /// <summary>
    /// One token per row of <paramref name="logits"/> [n, V], with its log-prob under the temperature-scaled, unfiltered
    /// distribution. Greedy at temperature 0 or without <paramref name="draw"/>; otherwise <paramref name="draw"/> picks
    /// from the top-k / top-p filtered probabilities [n, V] and returns the token ids [n].
    /// </summary>
    public static (Tensor Tokens, Tensor LogProbs) Pick(Tensor logits, SamplingParams parameters, Func<Tensor, Tensor>? draw)
    {
        var z = logits.to(ScalarType.Float32);
        if (parameters.Temperature == 0 || draw is null)
        {
            var greedy = z.argmax(-1);
            return (greedy, z.log_softmax(-1).gather(-1, greedy.unsqueeze(-1)).squeeze(-1));
        }

        if (parameters.Temperature != 1.0)
        {
            z = z / parameters.Temperature; // at T = 1 a pass over [B, V] that changes nothing
        }

        var logProbs = z.log_softmax(-1);
        var filtered = LogitFilters.TopP(LogitFilters.TopK(z, parameters.TopK), parameters.TopP);
        var sampled = draw(filtered.softmax(-1));
        return (sampled, logProbs.gather(-1, sampled.unsqueeze(-1)).squeeze(-1));
    }
}
