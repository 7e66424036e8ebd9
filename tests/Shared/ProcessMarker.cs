using System.Text;

namespace GrpoAspire.Testing;

/// <summary>
/// Finds the processes of one app: DCP hands the AppHost's environment to everything it starts (DCP itself, the
/// dashboard, redis-server, the services), so a variable with a fresh value set for the AppHost marks them all, and a
/// scan of <c>/proc/*/environ</c> finds whatever is left after it stopped. Other test assemblies' processes never
/// carry it. Tests that use it run one at a time.
/// </summary>
internal sealed class ProcessMarker
{
    public const string Variable = "GRPO_TEST_MARKER";

    public string Value { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Processes other than this one whose environment holds the marker: pid and command line.</summary>
    public IReadOnlyList<(int Pid, string Command)> Alive()
    {
        var needle = Encoding.ASCII.GetBytes($"{Variable}={Value}\0");
        var found = new List<(int, string)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (File.ReadAllBytes(Path.Combine(directory, "environ")).AsSpan().IndexOf(needle) >= 0
                    && !File.ReadAllText(Path.Combine(directory, "stat")).Contains(") Z ", StringComparison.Ordinal))
                {
                    found.Add((pid, File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ').Trim()));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone in between, or not ours to read.
            }
        }

        return found;
    }

    /// <summary>
    /// Kills every marked process and waits (up to 10 s) until none is left, so that nothing of the app still writes
    /// into a test's folders when the test deletes them.
    /// </summary>
    public void KillAll()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        IReadOnlyList<(int Pid, string Command)> alive;
        while ((alive = Alive()).Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var (pid, _) in alive)
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Gone in between.
                }
            }

            Thread.Sleep(100);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for every marked process to be gone; fails naming the survivors.</summary>
    public async Task AssertNoneLeftAsync(TimeSpan timeout, string? context = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<(int Pid, string Command)> alive;
        while ((alive = Alive()).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.True(alive.Count == 0,
            $"still running {timeout.TotalSeconds:0} s after the app stopped:\n{string.Join('\n', alive.Select(p => $"  {p.Pid} {p.Command}"))}\n{context}");
    }
}
