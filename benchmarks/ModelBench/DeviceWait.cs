using static TorchSharp.torch;

namespace ModelBench;

/// <summary>Waits for a device's queued work before a clock is read (CUDA runs asynchronously; a CPU has nothing queued).</summary>
internal static class DeviceWait
{
    public static void For(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }
}
