using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Qwen2;
using static GrpoAspire.WeightSync.Tests.Streams;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>
/// A whole, verified version that is not the model's shape is refused before any tensor is copied: the checks
/// come first, so even mismatches late in the tensor order leave the model unchanged.
/// </summary>
public sealed class ApplyMismatchTests
{
    private static List<WeightChunk> StreamOf(Qwen2ForCausalLM model) =>
        Of(WeightSnapshot.Capture(model, version: 2));

    [Fact]
    public void ShapeMismatchWithTheModelIsRejectedAndNothingIsCopied()
    {
        // Only the MLP projections differ; the embedding and attention, copied first in order, would fit.
        using var source = TinyQwen.Random(seed: 1, config: TinyQwen.Config(intermediate: 48));
        using var target = TinyQwen.Random(seed: 2);

        var error = AssertRejected(
            target, StreamOf(source),
            "weights version 2 do not fit the model, which was left unchanged",
            "shape mismatch (6): 'model.layers.0.mlp.gate_proj.weight' is [48, 32], the model's is [64, 32]");

        Assert.DoesNotContain("embed_tokens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExtraTensorIsRejected()
    {
        using var source = TinyQwen.Random(seed: 1, config: TinyQwen.Config(tied: false));
        using var target = TinyQwen.Random(seed: 2);

        AssertRejected(target, StreamOf(source), "not in the model (1): lm_head.weight");
    }

    [Fact]
    public void MissingTensorIsRejected()
    {
        using var source = TinyQwen.Random(seed: 1);
        using var target = TinyQwen.Random(seed: 2, config: TinyQwen.Config(tied: false));

        AssertRejected(target, StreamOf(source), "missing from the weights (1): lm_head.weight");
    }

    [Fact]
    public void DtypeMismatchWithTheModelIsRejected()
    {
        using var source = TinyQwen.Random(seed: 1, ScalarType.BFloat16);
        using var target = TinyQwen.Random(seed: 2);

        AssertRejected(target, StreamOf(source), "dtype mismatch (26): 'model.embed_tokens.weight' is bfloat16, the model's is Float32", ", and 16 more");
    }

    [Fact]
    public void ModelOfAnotherDepthListsItsMissingLayersBriefly()
    {
        using var source = TinyQwen.Random(seed: 1);
        var deeper = TinyQwen.Config() with { NumHiddenLayers = 4 };
        using var target = TinyQwen.Random(seed: 2, config: deeper);

        AssertRejected(target, StreamOf(source), "missing from the weights (24): model.layers.2.", ", and 14 more");
    }
}
