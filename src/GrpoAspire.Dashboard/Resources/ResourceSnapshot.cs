using System.Text.Json.Serialization;

namespace GrpoAspire.Dashboard.Resources;

/// <summary>One resource as the host sees it now; immutable, the host replaces it when something changes.</summary>
public sealed record ResourceSnapshot
{
    /// <summary>The resource name of Aspire's app model (<c>redis</c>, <c>reward</c>, <c>generation</c>, <c>trainer</c>).</summary>
    public required string Name { get; init; }

    public required ResourceType Type { get; init; }

    public ResourceState State { get; init; } = ResourceState.Starting;

    /// <summary>From the resource's <c>/health</c> probe; <see cref="ResourceHealth.Unknown"/> until the first answer.</summary>
    public ResourceHealth Health { get; init; } = ResourceHealth.Unknown;

    public IReadOnlyList<ResourceEndpoint> Endpoints { get; init; } = [];

    /// <summary>How many times the host restarted the resource after it stopped.</summary>
    public int Restarts { get; init; }

    /// <summary>The operating-system process id while it runs.</summary>
    public int? ProcessId { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Set once the process ended.</summary>
    public int? ExitCode { get; init; }
}

/// <summary>A named address of a resource: <c>grpc</c> -> <c>http://127.0.0.1:5123</c>.</summary>
public sealed record ResourceEndpoint(string Name, string Url);

/// <summary>Aspire's resource types; the JSON names are Aspire's lowercase ones.</summary>
public enum ResourceType
{
    [JsonStringEnumMemberName("project")]
    Project,

    [JsonStringEnumMemberName("executable")]
    Executable,

    [JsonStringEnumMemberName("container")]
    Container,
}

/// <summary>The life cycle of a resource, with Aspire's state names.</summary>
public enum ResourceState
{
    Starting,
    Running,
    Finished,
    Failed,
    Exited,
}

/// <summary>The last answer of the resource's health probe.</summary>
public enum ResourceHealth
{
    Unknown,
    Healthy,
    Unhealthy,
}
