using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync;

/// <summary>
/// The tensors of a module that make up its weights, and copies between them and host bytes. Weights are the
/// named parameters plus the persistent buffers (what a state dict holds); non-persistent buffers are derived
/// state (rotary tables and the like) that each process rebuilds itself.
/// </summary>
internal static class ModelTensors
{
    /// <summary>Bytes per host view: <c>Tensor.bytes</c> is a Span, so a view must stay below 2 GiB.</summary>
    private const int ViewBytes = 1 << 30;

    /// <summary>Parameters then persistent buffers, in the module's registration order (layer by layer).</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> Named(nn.Module model)
    {
        foreach (var (name, parameter) in model.named_parameters())
        {
            yield return (name, parameter);
        }

        foreach (var (name, buffer) in model.named_buffers(include_nonpersistent: false))
        {
            yield return (name, buffer);
        }
    }

    /// <summary>Streams the tensor's bytes, on whatever device it lives, to <paramref name="sink"/> in host views.</summary>
    public static void ReadBytes(Tensor tensor, Action<ReadOnlySpan<byte>> sink)
    {
        EnsureLittleEndian();
        using var scope = NewDisposeScope();
        // detach() first: a fresh handle owned by the scope, so nothing below can dispose the live tensor.
        var flat = tensor.detach().cpu().contiguous().view(-1);
        var elementSize = (int)flat.ElementSize;
        var perView = Math.Max(1, ViewBytes / elementSize);
        for (long start = 0; start < flat.shape[0]; start += perView)
        {
            using var view = flat.narrow(0, start, Math.Min(perView, flat.shape[0] - start));
            sink(view.bytes);
        }
    }

    /// <summary>A host copy of the tensor's bytes.</summary>
    public static TensorBytes ToBytes(Tensor tensor)
    {
        var bytes = new TensorBytes(tensor.numel() * tensor.ElementSize);
        long offset = 0;
        ReadBytes(tensor, span =>
        {
            bytes.Write(offset, span);
            offset += span.Length;
        });
        return bytes;
    }

    /// <summary>Fills a contiguous CPU tensor of the right size with <paramref name="source"/>.</summary>
    public static void WriteBytes(TensorBytes source, Tensor destination)
    {
        EnsureLittleEndian();
        using var flat = destination.view(-1);
        var elementSize = (int)flat.ElementSize;
        var perView = Math.Max(1, ViewBytes / elementSize);
        long offset = 0;
        for (long start = 0; start < flat.shape[0]; start += perView)
        {
            using var view = flat.narrow(0, start, Math.Min(perView, flat.shape[0] - start));
            var span = view.bytes;
            source.CopyTo(offset, span);
            offset += span.Length;
        }
    }

    /// <summary>
    /// The stream carries little-endian bytes and libtorch keeps tensors in host order; on a big-endian host the two
    /// differ, and copying raw bytes would silently scramble every weight.
    /// </summary>
    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("weight synchronization copies raw little-endian bytes; this host is big-endian");
        }
    }
}
