using System.Collections.Immutable;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync;

/// <summary>
/// A model's weights at one version, copied to host memory: what the trainer publishes and streams to replicas.
/// The copy is what lets training go on while replicas pull; it is immutable, so any number of streams may read it.
/// </summary>
public sealed class WeightSnapshot
{
    private WeightSnapshot(long version, ImmutableArray<WeightTensor> tensors)
    {
        Version = version;
        Tensors = tensors;
        TotalBytes = tensors.Sum(t => t.ByteLength);
    }

    /// <summary>Starts at 1 and increases with every publication (0 means "latest" in requests).</summary>
    public long Version { get; }

    /// <summary>Parameters then persistent buffers, in the module's order.</summary>
    public IReadOnlyList<WeightTensor> Tensors { get; }

    public long TotalBytes { get; }

    /// <summary>
    /// Copies every parameter and persistent buffer of <paramref name="model"/> (on any device) to host memory, with
    /// its SHA-256. Call it between optimizer steps: it reads the live tensors.
    /// </summary>
    public static WeightSnapshot Capture(nn.Module model, long version)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        var named = ModelTensors.Named(model).ToArray();
        if (named.Length == 0)
        {
            throw new ArgumentException("the model has no parameters or persistent buffers to publish", nameof(model));
        }

        foreach (var (name, tensor) in named)
        {
            if (!WeightDtypes.IsSupported(tensor.dtype))
            {
                throw new ArgumentException(
                    $"tensor '{name}' is {tensor.dtype}; only {string.Join(", ", WeightDtypes.Names)} weights can be synchronized",
                    nameof(model));
            }
        }

        // Copy and hash tensor by tensor on every core: SHA-256 is most of the cost (about 1 GB for Qwen2.5-0.5B in
        // bfloat16), and tensors are independent. Each worker has its own dispose scope (they are per thread).
        var tensors = new WeightTensor[named.Length];
        Parallel.For(0, named.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (name, tensor) = named[i];
            var bytes = ModelTensors.ToBytes(tensor);
            tensors[i] = new WeightTensor(name, tensor.dtype, [.. tensor.shape], bytes, [.. bytes.Sha256()]);
        });

        return new WeightSnapshot(version, [.. tensors]);
    }
}
