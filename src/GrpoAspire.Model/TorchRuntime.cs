using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model;

/// <summary>Run-time choice of device and dtype, with clear errors for unknown values.</summary>
public static class TorchRuntime
{
    /// <summary>Parses "cpu", "cuda" or "cuda:N"; fails clearly when CUDA is asked for but absent.</summary>
    /// <summary>
    /// libtorch's intra-op threads for CPU work: OMP_NUM_THREADS when set, else every core. OpenMP keeps the thread
    /// count per calling thread, and in the services the torch work runs on whichever thread-pool thread an await
    /// resumed on; whatever runs a model calls this first, so every such thread uses the configured cores. Cheap when
    /// nothing changes.
    /// </summary>
    public static void UseConfiguredThreads()
    {
        var wanted = int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out var n) && n > 0 ? n : Environment.ProcessorCount;
        if (torch.get_num_threads() != wanted)
        {
            torch.set_num_threads(wanted);
        }
    }

    public static Device ParseDevice(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var normalized = name.Trim().ToLowerInvariant();
        if (normalized == "cpu")
        {
            return CPU;
        }

        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
            {
                throw new ArgumentException(
                    $"device '{name}' asked for, but CUDA is not available to this libtorch "
                    + "(build with -p:TorchBackend=external and a CUDA libtorch on LD_LIBRARY_PATH, or TorchBackend=cuda)");
            }

            var index = 0;
            if (normalized.Length > 4 && (!int.TryParse(normalized[5..], out index) || index < 0 || index >= cuda.device_count()))
            {
                throw new ArgumentException($"device '{name}': valid CUDA indices are 0..{cuda.device_count() - 1}");
            }

            return new Device(DeviceType.CUDA, index);
        }

        throw new ArgumentException($"unknown device '{name}'; valid: cpu, cuda, cuda:N");
    }

    /// <summary>Parses "float32" / "fp32" / "bfloat16" / "bf16" / "float16" / "fp16".</summary>
    public static ScalarType ParseDtype(string name) => name.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" or "float" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "half" => ScalarType.Float16,
        _ => throw new ArgumentException($"unknown dtype '{name}'; valid: float32, bfloat16, float16"),
    };
}
