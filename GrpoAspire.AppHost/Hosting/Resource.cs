using GrpoAspire.Dashboard.Resources;

namespace GrpoAspire.AppHost.Hosting;

/// <summary>Lifecycle of a resource, with Aspire's state names.</summary>
public enum ResourceState
{
    // Aspire's names; the dashboard shows NotStarted and Waiting as Starting, FailedToStart as Failed.
    NotStarted,
    Waiting,
    Starting,
    Running,
    Finished,
    Exited,
    FailedToStart,
}

/// <summary>Health as the dashboard shows it.</summary>
public enum ResourceHealth
{
    Unknown,
    Healthy,
    Unhealthy,
}

/// <summary>
/// One resource of the app model (redis, a project, an executable): a process with named endpoints, the
/// environment the app model gives it, and the last lines it printed.
/// </summary>
public abstract class Resource(string name, string type)
{
    public string Name { get; } = name;

    /// <summary>"container", "project" or "executable", as Aspire's dashboard names them.</summary>
    public string Type { get; } = type;

    public ResourceState State { get; internal set; } = ResourceState.NotStarted;

    public ResourceHealth Health { get; internal set; } = ResourceHealth.Unknown;

    public int? ProcessId { get; internal set; }

    public int? ExitCode { get; internal set; }

    public int Restarts { get; internal set; }

    /// <summary>Named endpoints (grpc, http, tcp) on loopback, allocated before anything starts.</summary>
    public Dictionary<string, Uri> Endpoints { get; } = [];

    public Dictionary<string, string> Environment { get; } = [];

    /// <summary>Resources this one waits for (running and healthy) before it starts.</summary>
    public List<Resource> WaitsFor { get; } = [];

    /// <summary>What the process printed, bounded; the dashboard's console view reads it.</summary>
    public ConsoleLogBuffer Logs { get; } = new();

    public DateTimeOffset? StartedAt { get; internal set; }

    /// <summary>A failure to stop everything for (a process that exits while the app runs).</summary>
    public bool Required { get; init; } = true;

    public void AddLog(string text, bool error) => Logs.Append(text, error);
}
