using System.Diagnostics;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>Per-phase wall time of the decode loop (GRPO_PROFILE_SAMPLER=1), synchronizing CUDA at each mark.</summary>
internal sealed class SamplerProfile(Device device)
{
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("GRPO_PROFILE_SAMPLER") == "1";

    private readonly Dictionary<string, double> _seconds = [];
    private readonly Stopwatch _watch = Stopwatch.StartNew();

    public void Mark(string phase)
    {
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }

        _seconds[phase] = _seconds.GetValueOrDefault(phase) + _watch.Elapsed.TotalSeconds;
        _watch.Restart();
    }

    public void Report() =>
        Console.Error.WriteLine("sampler profile: " + string.Join(", ", _seconds.Select(p => $"{p.Key} {p.Value * 1000:F0} ms")));
}

/// <summary>Accumulated phase times across calls, printed at process exit (GRPO_PROFILE_SAMPLER=1).</summary>
internal sealed class PhaseTimer
{
    private static readonly Dictionary<string, double> Totals = [];
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly string _name;
    private readonly Device _device;

    static PhaseTimer()
    {
        if (Enabled)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                Console.Error.WriteLine("phases: " + string.Join(", ", Totals.Select(p => $"{p.Key} {p.Value * 1000:F0} ms")));
        }
    }

    public PhaseTimer(string name, Device device)
    {
        _name = name;
        _device = device;
        Sync();
        _watch.Restart();
    }

    public static bool Enabled => SamplerProfile.Enabled;

    public void Mark(string phase)
    {
        Sync();
        var key = $"{_name}.{phase}";
        Totals[key] = Totals.GetValueOrDefault(key) + _watch.Elapsed.TotalSeconds;
        _watch.Restart();
    }

    private void Sync()
    {
        if (_device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize(_device);
        }
    }
}
