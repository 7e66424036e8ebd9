using GrpoAspire.Model.Qwen2;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>Small randomly initialized Qwen2 models: the trainer's and the replica's side of a sync.</summary>
internal static class TinyQwen
{
    public static Qwen2Config Config(bool tied = true, int vocab = 96, int hidden = 32, int intermediate = 64) => new Qwen2Config
    {
        VocabSize = vocab,
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        TieWordEmbeddings = tied,
        RopeThetaTopLevel = 10000,
        InitializerRange = 0.2,
    }.Validated();

    public static Qwen2ForCausalLM Random(long seed, ScalarType dtype = ScalarType.Float32, Qwen2Config? config = null)
    {
        var model = new Qwen2ForCausalLM(config ?? Config(), CPU, dtype);
        model.InitializeWeights(seed);
        model.eval();
        return model;
    }

    /// <summary>A model whose embedding (5000 x 128 float32, 2.44 MiB) needs three chunks of 1 MiB.</summary>
    public static Qwen2ForCausalLM WithLargeEmbedding(long seed) =>
        Random(seed, config: Config(vocab: 5000, hidden: 128, intermediate: 256));

    /// <summary>Logits of a fixed prompt, to show the synced model computes what the source does.</summary>
    public static float[] Logits(Qwen2ForCausalLM model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(new long[] { 1, 7, 42, 3, 9 }).unsqueeze(0); // [1, T]
        var positions = arange(5, dtype: ScalarType.Int64).unsqueeze(0); // [1, T]
        return model.Forward(ids, positions).to(ScalarType.Float32).data<float>().ToArray();
    }
}
