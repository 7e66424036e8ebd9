using System.Collections.Immutable;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync;

/// <summary>
/// One tensor of a weights version: its Hugging Face name, dtype, shape, raw little-endian bytes (bfloat16 as its
/// 2-byte bits) and their digest (XXH128). Immutable, so a snapshot can be streamed to many replicas at once while the
/// trainer goes on training.
/// </summary>
public sealed class WeightTensor
{
    internal WeightTensor(string name, ScalarType type, ImmutableArray<long> shape, TensorBytes data, ImmutableArray<byte> digest)
    {
        Name = name;
        ScalarType = type;
        Dtype = WeightDtypes.NameOf(type);
        Shape = shape;
        Data = data;
        Digest = digest;
    }

    /// <summary>The state-dict key, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The wire name of the dtype: "float32", "bfloat16" or "float16".</summary>
    public string Dtype { get; }

    public ScalarType ScalarType { get; }

    public ImmutableArray<long> Shape { get; }

    public long ByteLength => Data.Length;

    public TensorBytes Data { get; }

    /// <summary>XXH128 of <see cref="Data"/> (16 bytes, <see cref="TensorBytes.Digest"/>).</summary>
    public ImmutableArray<byte> Digest { get; }

    /// <summary>"[2, 3]", for messages.</summary>
    internal string ShapeText => Shapes.Format(Shape);
}

/// <summary>Shape arithmetic and formatting shared by capture, the assembler and the applier.</summary>
internal static class Shapes
{
    public static string Format(IEnumerable<long> shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>product(shape) * elementSize, or null when a dimension is negative or the product overflows.</summary>
    public static long? ByteLength(IReadOnlyList<long> shape, int elementSize)
    {
        long total = elementSize;
        foreach (var dimension in shape)
        {
            if (dimension < 0)
            {
                return null;
            }

            try
            {
                total = checked(total * dimension);
            }
            catch (OverflowException)
            {
                return null;
            }
        }

        return total;
    }
}
