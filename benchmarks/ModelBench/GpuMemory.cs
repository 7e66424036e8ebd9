using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace ModelBench;

/// <summary>A GPU's used memory as nvidia-smi reports it (every process's, the CUDA contexts included).</summary>
internal static class GpuMemory
{
    /// <summary>MiB in use on <paramref name="device"/>'s GPU; null for another device type or without nvidia-smi.</summary>
    public static long? UsedMib(Device device)
    {
        if (device.type != TorchSharp.DeviceType.CUDA)
        {
            return null;
        }

        var query = new ProcessStartInfo("nvidia-smi", ["--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", Math.Max(0, (int)device.index).ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        try
        {
            using var process = Process.Start(query)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 && long.TryParse(output.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var mib) ? mib : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no nvidia-smi on this machine
        }
    }
}
