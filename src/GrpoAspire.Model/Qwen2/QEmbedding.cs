using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>Token embedding with a <c>weight</c> [vocab, hidden], allocated uninitialized like <see cref="QLinear"/>.</summary>
public sealed class QEmbedding : nn.Module<Tensor, Tensor>
{
    public Parameter weight;

    public QEmbedding(long vocabSize, long hiddenSize, Device device, ScalarType dtype)
        : base(nameof(QEmbedding))
    {
        weight = new Parameter(empty([vocabSize, hiddenSize], dtype: dtype, device: device));
        RegisterComponents();
    }

    /// <summary>[B, T] ids -> [B, T, hidden].</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        return weight.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], -1).MoveToOuterDisposeScope();
    }
}
