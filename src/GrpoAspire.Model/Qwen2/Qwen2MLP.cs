using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class Qwen2MLP : nn.Module<Tensor, Tensor>
{
    public QLinear gate_proj;
    public QLinear up_proj;
    public QLinear down_proj;

    public Qwen2MLP(Qwen2Config config, Device device, ScalarType dtype)
        : base(nameof(Qwen2MLP))
    {
        gate_proj = new QLinear(config.HiddenSize, config.IntermediateSize, hasBias: false, device, dtype);
        up_proj = new QLinear(config.HiddenSize, config.IntermediateSize, hasBias: false, device, dtype);
        down_proj = new QLinear(config.IntermediateSize, config.HiddenSize, hasBias: false, device, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.forward(nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x)).MoveToOuterDisposeScope();
    }
}
