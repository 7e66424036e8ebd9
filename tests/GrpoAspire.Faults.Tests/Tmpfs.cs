using System.Diagnostics;

namespace GrpoAspire.Faults.Tests;

/// <summary>A small tmpfs mounted for one test (a disk that fills up for real); unmounted on dispose. Needs root.</summary>
internal sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    /// <summary>Why tmpfs cannot be mounted here, or null when it can (probed once: a 1 MB mount and unmount).</summary>
    public static string? MissingReason { get; } = Probe();

    public static Tmpfs Mount(string path, int megabytes)
    {
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        return new Tmpfs(path);
    }

    /// <summary>Writes <paramref name="filler"/> until only about <paramref name="bytesFree"/> bytes are left on the mount.</summary>
    public void FillLeaving(string filler, long bytesFree)
    {
        var free = new DriveInfo(Path).AvailableFreeSpace;
        using var stream = new FileStream(filler, FileMode.Create);
        stream.SetLength(0);
        var block = new byte[64 * 1024];
        for (var left = free - bytesFree; left > 0; left -= block.Length)
        {
            stream.Write(block, 0, (int)Math.Min(block.Length, left)); // written, not sparse: tmpfs counts it
        }
    }

    public void Dispose() => Run("umount", "--lazy", Path);

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "tmpfs needs Linux";
        }

        var path = Directory.CreateTempSubdirectory("grpo-tmpfs-probe").FullName;
        try
        {
            Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", path);
            Run("umount", path);
            return null;
        }
        catch (InvalidOperationException e)
        {
            return $"cannot mount a tmpfs to fill up (run as root, or in a container with CAP_SYS_ADMIN): {e.Message}";
        }
        finally
        {
            Directory.Delete(path);
        }
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, UseShellExecute = false })
            ?? throw new InvalidOperationException($"could not start {program}");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {error.Trim()}");
        }
    }
}

/// <summary>A fact that fills a real disk: reported skipped (never passed) where a tmpfs cannot be mounted.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.MissingReason is { } reason)
        {
            Skip = reason;
        }
    }
}
