using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>Pre-norm transformer block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
public sealed class Qwen2DecoderLayer : nn.Module
{
    public Qwen2Attention self_attn;
    public Qwen2MLP mlp;
    public Qwen2RMSNorm input_layernorm;
    public Qwen2RMSNorm post_attention_layernorm;

    public Qwen2DecoderLayer(Qwen2Config config, int layerIndex, Device device, ScalarType dtype)
        : base(nameof(Qwen2DecoderLayer))
    {
        self_attn = new Qwen2Attention(config, layerIndex, device, dtype);
        mlp = new Qwen2MLP(config, device, dtype);
        input_layernorm = new Qwen2RMSNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        post_attention_layernorm = new Qwen2RMSNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, Tensor? mask, IKvCache? cache)
    {
        using var scope = NewDisposeScope();
        var h = hidden + self_attn.Forward(input_layernorm.forward(hidden), cos, sin, mask, cache);
        return (h + mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }
}
