using GrpoAspire.Dashboard.Completions;
using GrpoAspire.Dashboard.Resources;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>Starts dashboards on free loopback ports (port 0) with a catalog of the project's four resources.</summary>
internal static class TestDashboards
{
    public static DashboardOptions FreePorts(DashboardOptions? options = null) =>
        (options ?? new DashboardOptions()) with { UiPort = 0, OtlpGrpcPort = 0, OtlpHttpPort = 0 };

    public static Task<DashboardHost> StartAsync(DashboardOptions? options = null, IResourceCatalog? catalog = null, ICompletionSource? completions = null) =>
        DashboardHost.StartAsync(FreePorts(options), catalog ?? ProjectCatalog(), completions);

    /// <summary>redis, reward, generation and trainer, as the AppHost reports them, with a few console lines.</summary>
    public static ResourceCatalog ProjectCatalog()
    {
        var catalog = new ResourceCatalog();
        var started = DateTimeOffset.UtcNow.AddMinutes(-3);
        catalog.Set(new ResourceSnapshot
        {
            Name = "redis", Type = ResourceType.Executable, State = ResourceState.Running, Health = ResourceHealth.Healthy,
            Endpoints = [new ResourceEndpoint("tcp", "tcp://127.0.0.1:6380")], ProcessId = 4101, StartedAt = started,
        });
        catalog.Set(new ResourceSnapshot
        {
            Name = "reward", Type = ResourceType.Project, State = ResourceState.Running, Health = ResourceHealth.Healthy,
            Endpoints = [new ResourceEndpoint("grpc", "http://127.0.0.1:5101"), new ResourceEndpoint("http", "http://127.0.0.1:5102")],
            ProcessId = 4102, StartedAt = started,
        });
        catalog.Set(new ResourceSnapshot
        {
            Name = "generation", Type = ResourceType.Project, State = ResourceState.Running, Health = ResourceHealth.Unhealthy,
            Endpoints = [new ResourceEndpoint("grpc", "http://127.0.0.1:5103")], Restarts = 1, ProcessId = 4103, StartedAt = started,
        });
        catalog.Set(new ResourceSnapshot
        {
            Name = "trainer", Type = ResourceType.Project, State = ResourceState.Starting, Health = ResourceHealth.Unknown,
            Endpoints = [new ResourceEndpoint("grpc", "http://127.0.0.1:5104")], ProcessId = 4104, StartedAt = started,
        });
        catalog.Console("trainer").Append("info: trainer started, run smoke");
        catalog.Console("trainer").Append("step 1/2 reward 0.25", isError: false);
        catalog.Console("trainer").Append("warn: replica generation-1 restarted", isError: true);
        catalog.Console("redis").Append("Ready to accept connections tcp");
        return catalog;
    }
}
