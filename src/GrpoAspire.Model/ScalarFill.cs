using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model;

/// <summary>
/// <c>masked_fill</c> with a value whose native scalar lives until the call returned. TorchSharp turns a double into a
/// <c>Scalar</c> that owns a native object and has a finalizer, and reads its handle before the native call without
/// keeping it reachable: a garbage collection started meanwhile by another thread can free that object while libtorch
/// reads it. Seen once in CI: the attention mask's fill value came through as garbage and libtorch refused it
/// ("toFloat ... Expected false to be true"); a garbage -inf would have been silent. Here the scalar is disposed only
/// after the call.
/// </summary>
public static class ScalarFill
{
    public static Tensor MaskedFill(Tensor tensor, Tensor mask, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.masked_fill(mask, scalar);
    }

    public static Tensor MaskedFillInPlace(Tensor tensor, Tensor mask, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.masked_fill_(mask, scalar);
    }
}
