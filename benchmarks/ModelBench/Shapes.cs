using GrpoAspire.Model.Qwen2;

namespace ModelBench;

/// <summary>The model shapes benchmarked: Qwen2.5-0.5B and 3B (as the peer scripts build them), a small CPU one, and thin-0.5B.</summary>
internal static class Shapes
{
    public static Qwen2Config Get(string name) => name switch
    {
        "0.5B" => new Qwen2Config
        {
            VocabSize = 151936, HiddenSize = 896, IntermediateSize = 4864, NumHiddenLayers = 24, NumAttentionHeads = 14,
            NumKeyValueHeads = 2, RopeThetaTopLevel = 1e6, TieWordEmbeddings = true, MaxPositionEmbeddings = 32768,
        },
        "3B" => new Qwen2Config
        {
            VocabSize = 151936, HiddenSize = 2048, IntermediateSize = 11008, NumHiddenLayers = 36, NumAttentionHeads = 16,
            NumKeyValueHeads = 2, RopeThetaTopLevel = 1e6, TieWordEmbeddings = true, MaxPositionEmbeddings = 32768,
        },
        "small" => new Qwen2Config
        {
            VocabSize = 512, HiddenSize = 256, IntermediateSize = 768, NumHiddenLayers = 4, NumAttentionHeads = 8,
            NumKeyValueHeads = 2, RopeThetaTopLevel = 1e4, TieWordEmbeddings = true, MaxPositionEmbeddings = 4096,
        },
        // Qwen2.5-0.5B's 24 layers, head layout and 290 parameter tensors at tiny widths: its time on a CPU is almost all
        // host work (one native call per op, per tensor), which is what bounds batch-1 decoding and the optimizer on a GPU.
        "thin-0.5B" => new Qwen2Config
        {
            VocabSize = 512, HiddenSize = 112, IntermediateSize = 128, NumHiddenLayers = 24, NumAttentionHeads = 14,
            NumKeyValueHeads = 2, RopeThetaTopLevel = 1e6, TieWordEmbeddings = true, MaxPositionEmbeddings = 4096,
        },
        _ => throw new ArgumentException($"unknown shape '{name}'; valid: 0.5B, 3B, small, thin-0.5B"),
    };
}
