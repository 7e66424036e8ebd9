using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync;

/// <summary>
/// One XXH128 over a model's weights, so a test or a service can tell in one comparison that a replica serves
/// exactly the trainer's weights. Tensors are taken in ordinal name order, each as its name, dtype, shape and the
/// digest of its raw bytes (<see cref="TensorBytes.Digest"/>), every variable-length field length-prefixed so no two
/// different sets of weights share an input. A model, the snapshot
/// captured from it, and the verified weights pulled from that snapshot give the same hex string.
/// </summary>
public static class WeightChecksum
{
    /// <summary>Of the model's parameters and persistent buffers, on any device (copied to the host tensor by tensor).</summary>
    public static string Of(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var hash = new XxHash128();
        var tensorHash = new XxHash128();
        foreach (var (name, tensor) in ModelTensors.Named(model).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            AppendHeader(hash, name, WeightDtypes.NameOf(tensor.dtype), tensor.shape, tensor.numel() * tensor.ElementSize);
            tensorHash.Reset();
            ModelTensors.ReadBytes(tensor, tensorHash.Append);
            hash.Append(tensorHash.GetCurrentHash());
        }

        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    /// <summary>Of a captured snapshot: what the trainer published, without touching its live model.</summary>
    public static string Of(WeightSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return Of(snapshot.Tensors);
    }

    /// <summary>Of pulled weights: what a replica is about to apply.</summary>
    public static string Of(VerifiedWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return Of(weights.Tensors);
    }

    private static string Of(IEnumerable<WeightTensor> tensors)
    {
        var hash = new XxHash128();
        foreach (var tensor in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            // The tensor's digest, computed once at capture (or verified on arrival): its bytes are not read again.
            AppendHeader(hash, tensor.Name, tensor.Dtype, tensor.Shape, tensor.ByteLength);
            hash.Append(tensor.Digest.AsSpan());
        }

        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    private static void AppendHeader(XxHash128 hash, string name, string dtype, IReadOnlyList<long> shape, long byteLength)
    {
        AppendText(hash, name);
        AppendText(hash, dtype);
        AppendInt64(hash, shape.Count);
        foreach (var dimension in shape)
        {
            AppendInt64(hash, dimension);
        }

        AppendInt64(hash, byteLength);
    }

    private static void AppendText(XxHash128 hash, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        AppendInt64(hash, bytes.Length);
        hash.Append(bytes);
    }

    private static void AppendInt64(XxHash128 hash, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        hash.Append(buffer);
    }
}
