using GrpoAspire.Model.Safetensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Float32 master copies of a bfloat16 (or float16) policy's parameters, for the optimizer (mixed precision, as
/// DeepSpeed's bf16 mode keeps them). Forward and backward run on the low-precision weights; each step the gradients
/// are cast into the masters, the optimizer clips and steps the masters in float32, and the result is rounded back into
/// the policy. Without it, AdamW updates of the seed's size (lr 5e-7: a change of ~1e-6 per step) are below a bf16
/// weight's resolution (~0.4% of its value) and most of them vanish in the rounding. The masters are one flat float32
/// <see cref="Parameter"/> laid out like the policy's <see cref="FlatParameters"/>, so each of those is one copy. They are
/// saved in each checkpoint (<see cref="FileName"/>, one tensor per parameter name), so a resumed run continues from the
/// same float32 values.
/// </summary>
public sealed class MasterWeights : IDisposable
{
    /// <summary>The checkpoint file that holds the masters (float32, the policy's parameter names).</summary>
    public const string FileName = "master_weights.safetensors";

    private readonly Tensor _grad;

    /// <param name="policy">The low-precision policy's flat buffers; its parameters stay what the model computes with.</param>
    /// <param name="resumeFolder">A checkpoint folder whose <see cref="FileName"/> holds the masters to continue from; when
    /// null or without that file, the masters start as the policy's weights cast to float32.</param>
    public MasterWeights(FlatParameters policy, string? resumeFolder = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Policy = policy;
        var path = resumeFolder is null ? null : Path.Combine(resumeFolder, FileName);
        var saved = path is not null && File.Exists(path) ? SafetensorsIndex.LoadStateDict(path, dtype: ScalarType.Float32) : null;
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var data = policy.Parameter.to(ScalarType.Float32, copy: true).DetachFromDisposeScope();
            foreach (var (name, master) in saved is null ? Enumerable.Empty<(string, Tensor)>() : policy.Split(data))
            {
                var source = saved!.GetValueOrDefault(name) ?? throw new InvalidDataException($"{path} has no tensor '{name}'");
                if (!source.shape.SequenceEqual(master.shape))
                {
                    throw new InvalidDataException(
                        $"{FileName}: '{name}' is [{string.Join(", ", source.shape)}], the model's is [{string.Join(", ", master.shape)}]");
                }

                master.copy_(source);
            }

            Parameter = new Parameter(data, requires_grad: true);
            _grad = zeros_like(Parameter).DetachFromDisposeScope();
            Parameter.grad = _grad;
        }
        finally
        {
            foreach (var tensor in saved?.Values.ToArray() ?? [])
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>Whether a policy of <paramref name="dtype"/> trains through masters under <paramref name="enabled"/> (fp32_master_weights).</summary>
    public static bool AppliesTo(ScalarType dtype, bool enabled) => enabled && dtype is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>The policy's flat buffers that the masters mirror.</summary>
    public FlatParameters Policy { get; }

    /// <summary>The float32 masters, flat, laid out like <see cref="Policy"/>: what the optimizer steps.</summary>
    public Parameter Parameter { get; }

    /// <summary>The masters' gradient (float32, flat): what clipping scales.</summary>
    public Tensor Grad => _grad;

    /// <summary>Casts the policy's flat gradient into the masters' (one copy).</summary>
    public void GatherGradients()
    {
        using var noGrad = no_grad();
        _grad.copy_(Policy.Grad);
    }

    /// <summary>Rounds the stepped masters back into the policy's weights (one copy).</summary>
    public void WriteBack()
    {
        using var noGrad = no_grad();
        Policy.Parameter.copy_(Parameter);
    }

    /// <summary>Writes the masters into <paramref name="folder"/>/<see cref="FileName"/>, one float32 tensor per parameter name.</summary>
    public void Save(string folder)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        SafetensorsWriter.Write(Path.Combine(folder, FileName), Policy.Split(Parameter).ToDictionary(p => p.Name, p => p.View));
    }

    public void Dispose()
    {
        _grad.Dispose();
        Parameter.Dispose();
    }
}
