using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>RMSNorm as Qwen2RMSNorm: normalize in float32, cast back, then scale by <c>weight</c>.</summary>
public sealed class Qwen2RMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly double _eps;
    public Parameter weight;

    public Qwen2RMSNorm(long size, double eps, Device device, ScalarType dtype)
        : base(nameof(Qwen2RMSNorm))
    {
        _eps = eps;
        weight = new Parameter(ones([size], dtype: dtype, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var inputType = hidden.dtype;
        var x = hidden.to(ScalarType.Float32);
        var variance = x.pow(2).mean([-1L], keepdim: true);
        x = x * rsqrt(variance + _eps);
        return (weight * x.to(inputType)).MoveToOuterDisposeScope();
    }
}
