using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Float32 master copies of a bfloat16 (or float16) policy's parameters, for the optimizer (mixed precision, as
/// DeepSpeed's bf16 mode keeps them). Forward and backward run on the low-precision weights; each step the gradients
/// are cast into the masters, the optimizer clips and steps the masters in float32, and the result is rounded back into
/// the policy. Without it, AdamW updates of the seed's size (lr 5e-7: a change of ~1e-6 per step) are below a bf16
/// weight's resolution (~0.4% of its value) and most of them vanish in the rounding. The masters are saved in each
/// checkpoint (<see cref="FileName"/>), so a resumed run continues from the same float32 values.
/// </summary>
public sealed class MasterWeights : IDisposable
{
    /// <summary>The checkpoint file that holds the masters (float32, the policy's parameter names).</summary>
    public const string FileName = "master_weights.safetensors";

    private readonly (string Name, Parameter Model, Parameter Master)[] _pairs;

    /// <param name="policy">The low-precision policy; its parameters stay what the model computes with.</param>
    /// <param name="resumeFolder">A checkpoint folder whose <see cref="FileName"/> holds the masters to continue from; when
    /// null or without that file, the masters start as the policy's weights cast to float32.</param>
    public MasterWeights(Qwen2ForCausalLM policy, string? resumeFolder = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var saved = resumeFolder is not null && File.Exists(Path.Combine(resumeFolder, FileName))
            ? SafetensorsIndex.LoadStateDict(Path.Combine(resumeFolder, FileName), dtype: ScalarType.Float32)
            : null;
        try
        {
            using var noGrad = no_grad();
            _pairs = policy.named_parameters().Where(p => p.parameter.requires_grad).Select(p =>
            {
                var source = saved is null ? p.parameter : saved.GetValueOrDefault(p.name)
                    ?? throw new InvalidDataException($"{Path.Combine(resumeFolder!, FileName)} has no tensor '{p.name}'");
                if (!source.shape.SequenceEqual(p.parameter.shape))
                {
                    throw new InvalidDataException(
                        $"{FileName}: '{p.name}' is [{string.Join(", ", source.shape)}], the model's is [{string.Join(", ", p.parameter.shape)}]");
                }

                var master = new Parameter(source.to(ScalarType.Float32, p.parameter.device).detach().clone(), requires_grad: true);
                return (p.name, p.parameter, master);
            }).ToArray();
        }
        finally
        {
            if (saved is not null)
            {
                foreach (var tensor in saved.Values)
                {
                    tensor.Dispose();
                }
            }
        }
    }

    /// <summary>Whether a policy of <paramref name="dtype"/> trains through masters under <paramref name="enabled"/> (fp32_master_weights).</summary>
    public static bool AppliesTo(ScalarType dtype, bool enabled) => enabled && dtype is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>The float32 masters, in the policy's parameter order: what the optimizer steps.</summary>
    public IReadOnlyList<Parameter> Parameters => _pairs.Select(p => p.Master).ToArray();

    /// <summary>Clears the policy's own gradients (the optimizer clears the masters').</summary>
    public void ZeroModelGradients()
    {
        foreach (var (_, model, _) in _pairs)
        {
            model.grad?.zero_();
        }
    }

    /// <summary>Casts each policy gradient into its master's gradient (float32); a parameter without one leaves its master's at zero.</summary>
    public void GatherGradients()
    {
        using var noGrad = no_grad();
        foreach (var (_, model, master) in _pairs)
        {
            if (master.grad is { } target)
            {
                if (model.grad is { } grad)
                {
                    target.copy_(grad);
                }
                else
                {
                    target.zero_();
                }
            }
            else
            {
                master.grad = model.grad is { } grad ? grad.to(ScalarType.Float32) : zeros_like(master);
            }
        }
    }

    /// <summary>Rounds the stepped masters back into the policy's weights.</summary>
    public void WriteBack()
    {
        using var noGrad = no_grad();
        foreach (var (_, model, master) in _pairs)
        {
            model.copy_(master);
        }
    }

    /// <summary>Writes the masters into <paramref name="folder"/>/<see cref="FileName"/>.</summary>
    public void Save(string folder)
    {
        SafetensorsWriter.Write(Path.Combine(folder, FileName), _pairs.ToDictionary(p => p.Name, p => (Tensor)p.Master));
    }

    public void Dispose()
    {
        foreach (var (_, _, master) in _pairs)
        {
            master.grad?.Dispose();
            master.Dispose();
        }
    }
}
