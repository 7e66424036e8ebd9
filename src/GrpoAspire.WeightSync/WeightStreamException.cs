namespace GrpoAspire.WeightSync;

/// <summary>
/// A weights stream or version that must not reach a live model: malformed, out of order, truncated, corrupted,
/// over a limit, or not the shape of the model. The message names the tensor and what was expected.
/// </summary>
public sealed class WeightStreamException : Exception
{
    public WeightStreamException(string message)
        : base(message)
    {
    }

    public WeightStreamException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
