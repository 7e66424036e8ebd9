using GrpoAspire.Model.Cuda;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>How <see cref="Sampler"/> runs its decode steps after the prompt's forward.</summary>
public enum DecodeLoopMode
{
    /// <summary><see cref="Graph"/> on CUDA where graphs are available, <see cref="Eager"/> elsewhere (<see cref="DecodeLoop.Resolve"/>).</summary>
    Auto,

    /// <summary>One forward per token over the positions written so far; finished rows leave the batch.</summary>
    Eager,

    /// <summary>
    /// Every step the same shapes and memory (<see cref="FixedShapeDecoder"/>): attention over the whole preallocated
    /// cache under a mask, write position on the device, finished rows kept in the batch (their tokens are ignored).
    /// </summary>
    Fixed,

    /// <summary><see cref="Fixed"/>, recorded once as a CUDA graph and replayed: one launch per token instead of one per op.</summary>
    Graph,
}

/// <summary>
/// Turns the configured loop into the one that runs. <see cref="DecodeLoopMode.Auto"/> is the default because on an
/// H200 (0.5B shape, bf16, 256 new tokens) graph decoding ran 5.1x the eager loop at batch 1 and 3.4x at batch 256
/// (benchmarks/results/gpu-h200-2026-11-26.json), while on a CPU the eager loop drops finished rows and fixed shapes
/// only pay at batch 1.
/// </summary>
public static class DecodeLoop
{
    private static int _warned;

    /// <summary>
    /// The loop for a model on <paramref name="device"/>: <see cref="DecodeLoopMode.Auto"/> becomes graph where CUDA
    /// graphs can run and eager elsewhere (said once on stderr when a CUDA device cannot use them); an explicit mode is
    /// kept as asked, so asking for graphs where they cannot run fails with the reason.
    /// </summary>
    public static DecodeLoopMode Resolve(DecodeLoopMode configured, Device device)
    {
        if (configured != DecodeLoopMode.Auto)
        {
            return configured;
        }

        if (device.type != TorchSharp.DeviceType.CUDA)
        {
            return DecodeLoopMode.Eager;
        }

        if (CudaGraph.Unavailable is not { } why)
        {
            return DecodeLoopMode.Graph;
        }

        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            Console.Error.WriteLine($"decode loop: CUDA graphs not used ({why}); eager steps instead");
        }

        return DecodeLoopMode.Eager;
    }
}
