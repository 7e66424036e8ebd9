using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>Per-token log-probs [N, C] of a batch's completion tokens under a model (chunked over the vocabulary).</summary>
public static class PolicyLogProbs
{
    public static Tensor Compute(Qwen2ForCausalLM model, TrainingBatch batch, double temperature)
    {
        using var scope = NewDisposeScope();
        var hidden = model.model.Forward(batch.InputIds, batch.PositionIds, batch.KeyPadding); // [N, P + C, H]
        // The token at P + t is predicted from position P + t - 1.
        var predicting = hidden.narrow(1, batch.PromptLength - 1, batch.CompletionLength); // [N, C, H]
        return TokenLogProbs.FromHidden(predicting, model.OutputWeight, batch.CompletionIds, temperature)
            .MoveToOuterDisposeScope();
    }
}
