using System.Diagnostics;
using System.Security.Cryptography;

namespace GrpoAspire.AppHost;

/// <summary>
/// Stops whatever the AppHost started once the AppHost is gone, however it went (SIGKILL, a signal it does not handle
/// such as SIGHUP, a crash). DCP watches the AppHost's PID (<c>--monitor</c>), but slowly and not wholly: measured here on
/// a loaded 2-core machine after a SIGKILL, the services kept training for ~15 s and DCP's <c>run-controllers</c> was
/// still running 15 s on; after a SIGTERM DCP's own processes stayed. <c>dcp start-apiserver</c> is detached (parent PID
/// 1, its own session), so it is no child of the AppHost either.
/// </summary>
/// <remarks>
/// <para>The AppHost marks its own environment with <see cref="Variable"/> = a fresh random value before DCP starts; DCP
/// hands that environment to everything it starts, so the mark finds them all whatever their parent now is (orphans are
/// re-parented to PID 1 or a subreaper, so a process tree cannot). PR_SET_PDEATHSIG would reach only direct children
/// (DCP), and a service that watches a parent PID would leave DCP, the wrappers and redis-server running.</para>
/// <para>The watchdog is a <c>/bin/sh</c> script, not a .NET process: nothing to build, a few hundred kB. It reads a pipe
/// whose only writer is the AppHost, so the kernel tells it at once when the AppHost dies, with no polling. The AppHost
/// writes <c>stopped</c> on a normal stop; DCP then finishes its own orderly cleanup within <see cref="StopGrace"/>, and
/// the watchdog steps in only after that. Otherwise it sends SIGTERM to every marked process, and SIGKILL to those left
/// after <see cref="TermGrace"/>. It ignores SIGINT and SIGHUP (a Ctrl+C or a closed terminal hits the whole process
/// group, the watchdog included, and it must outlive the AppHost), and its command line does not contain the AppHost's
/// name, so <c>pkill -f GrpoAspire.AppHost</c> does not hit it.</para>
/// <para>Linux reads the mark from <c>/proc/PID/environ</c>; macOS from <c>ps -E</c> (not tried there).</para>
/// </remarks>
public sealed class AppHostWatchdog
{
    public const string Variable = "GRPO_APPHOST_INSTANCE";

    /// <summary>
    /// After a normal stop, for DCP's own cleanup (its resources stop in ~3-11 s, the services' OTLP exporters flushing;
    /// DCP's own processes stay, measured). Short enough that a SIGTERM'd AppHost leaves nothing after 15 s.
    /// </summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    /// <summary>From SIGTERM to SIGKILL.</summary>
    public static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(3);

    // $1 the AppHost's PID, $2 the mark's value, $3 seconds to wait after a normal stop, $4 seconds from TERM to KILL.
    // The mark is matched as one whole environment entry; the watchdog and its own children (grep, ps) do not carry it.
    private const string Script = """
        trap '' INT HUP
        apphost=$1 value=$2 stop_grace=$3 term_grace=$4
        marked() {
          if [ -d /proc/self ]; then
            for f in $(grep -lzxF "$MARK=$value" /proc/[0-9]*/environ 2>/dev/null); do p=${f#/proc/}; echo "${p%/environ}"; done
          else
            ps -E -ww -ax -o pid= -o command= | awk -v m="$MARK" -v v="$value" 'index($0, m "=" v) { print $1 }'
          fi
        }
        wait_gone() { n=0; while [ -n "$(marked)" ] && [ "$n" -lt $(($1 * 4)) ]; do sleep 0.25; n=$((n + 1)); done; }
        read -r how
        if [ "$how" = stopped ]; then wait_gone "$stop_grace"; fi
        left=$(marked)
        [ -z "$left" ] && exit 0
        echo "[apphost-watchdog] the AppHost (pid $apphost) is gone; stopping the $(echo $left | wc -w) processes it left: $(echo $left)" >&2
        kill -TERM $left 2>/dev/null
        wait_gone "$term_grace"
        for i in 1 2 3 4; do left=$(marked); [ -z "$left" ] && exit 0; kill -KILL $left 2>/dev/null; sleep 0.25; done
        echo "[apphost-watchdog] still running after SIGKILL: $(marked)" >&2
        exit 1
        """;

    private readonly Process _process;

    private AppHostWatchdog(Process process) => _process = process;

    /// <summary>
    /// Marks this process's environment (so everything started from now on carries the mark) and starts the watchdog;
    /// null, with one line on stderr, where <c>/bin/sh</c> cannot be started (the app then runs without it).
    /// </summary>
    public static AppHostWatchdog? Start()
    {
        var mark = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        Environment.SetEnvironmentVariable(Variable, mark);
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
            ArgumentList =
            {
                "-c", Script, "grpo-apphost-watchdog", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), mark,
                Seconds(StopGrace), Seconds(TermGrace),
            },
        };
        start.Environment.Remove(Variable);
        start.Environment["MARK"] = Variable;
        try
        {
            return new AppHostWatchdog(Process.Start(start)!);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"apphost: no watchdog (/bin/sh: {e.Message}): if the AppHost is killed, its processes keep running");
            return null;
        }
    }

    /// <summary>A normal stop: the watchdog gives DCP <see cref="StopGrace"/> to finish before it acts.</summary>
    public void Stopped()
    {
        try
        {
            _process.StandardInput.WriteLine("stopped");
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            // The watchdog is gone (someone killed it): nothing to tell.
        }
    }

    private static string Seconds(TimeSpan span) => ((int)span.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
