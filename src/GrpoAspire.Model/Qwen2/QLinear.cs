using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// y = x W^T + b with parameters named <c>weight</c> and <c>bias</c> as in Hugging Face. Unlike nn.Linear it
/// allocates without initializing (weights come from a checkpoint or <see cref="Qwen2ForCausalLM.InitializeWeights"/>),
/// so building a 3B model costs no random-number work and can happen on the meta device.
/// </summary>
public sealed class QLinear : nn.Module<Tensor, Tensor>
{
    public Parameter weight;
    public Parameter? bias;

    public QLinear(long inFeatures, long outFeatures, bool hasBias, Device device, ScalarType dtype)
        : base(nameof(QLinear))
    {
        weight = new Parameter(empty([outFeatures, inFeatures], dtype: dtype, device: device));
        bias = hasBias ? new Parameter(empty([outFeatures], dtype: dtype, device: device)) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);
}
