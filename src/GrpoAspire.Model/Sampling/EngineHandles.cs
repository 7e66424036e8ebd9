using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>
/// Frees the tensors our custom autograd functions (<see cref="TokenLogProbs"/>, checkpointed decoder layers) hand to
/// the autograd engine. On a GPU the engine runs those backward functions on its own thread, where no dispose scope
/// of ours exists: the gradients they return, and TorchSharp's handle on the gradient they were given, are managed
/// wrappers that only a garbage collection frees, and GPU memory pressure never starts one. At the seed's 3B shape that
/// was about 2 GB of GPU memory per micro-batch (the output weight's gradient and every layer's input gradient): the
/// first step peaked at 91 GB and the second ran a 141 GB H200 out of memory. The engine keeps its own references to
/// what it was given, so finalizing our wrappers once <c>backward()</c> returned is safe, but only while no other
/// backward is running: a collection during another thread's backward could finalize a gradient between the moment
/// it is returned and the moment the engine takes its own reference. Call it where no backward is in flight (the
/// trainer does, between rounds of its replicas' micro-batches).
/// </summary>
public static class EngineHandles
{
    /// <summary>
    /// After <c>backward()</c> returned: a blocking collection and its finalizers, where the engine runs backward on a
    /// thread of its own (CUDA). On a CPU the engine runs it on the calling thread, whose dispose scopes already own
    /// those tensors, so nothing is done there.
    /// </summary>
    public static void Release(Device device)
    {
        if (device.type != TorchSharp.DeviceType.CPU)
        {
            ReleaseNow();
        }
    }

    /// <summary>The collection itself, whatever the device (tests run it on a CPU).</summary>
    public static void ReleaseNow()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
}
