using GrpoAspire.Model.Qwen2;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests;

/// <summary>Small randomly initialized Qwen2 models for tests that need no checkpoint.</summary>
internal static class TinyModels
{
    public static Qwen2Config Config(bool tied = true, int vocab = 96) => new Qwen2Config
    {
        VocabSize = vocab,
        HiddenSize = 32,
        IntermediateSize = 64,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        TieWordEmbeddings = tied,
        RopeThetaTopLevel = 10000,
        InitializerRange = 0.2,
    }.Validated();

    public static Qwen2ForCausalLM Random(long seed = 1, bool tied = true, ScalarType dtype = ScalarType.Float32)
    {
        var model = new Qwen2ForCausalLM(Config(tied), CPU, dtype);
        model.InitializeWeights(seed);
        model.eval();
        return model;
    }
}
