using GrpoAspire.Dashboard.Resources;
using DashboardHealth = GrpoAspire.Dashboard.Resources.ResourceHealth;
using DashboardState = GrpoAspire.Dashboard.Resources.ResourceState;

namespace GrpoAspire.AppHost.Hosting;

/// <summary>The app model's resources as the dashboard lists them.</summary>
public sealed class AppModelCatalog(IReadOnlyList<Resource> resources) : IResourceCatalog
{
    public IReadOnlyList<ResourceSnapshot> GetResources() => resources.Select(r => new ResourceSnapshot
    {
        Name = r.Name,
        Type = r.Type switch { "project" => ResourceType.Project, "container" => ResourceType.Container, _ => ResourceType.Executable },
        State = r.State switch
        {
            ResourceState.Running => DashboardState.Running,
            ResourceState.Finished => DashboardState.Finished,
            ResourceState.Exited => DashboardState.Exited,
            ResourceState.FailedToStart => DashboardState.Failed,
            _ => DashboardState.Starting,
        },
        Health = r.Health switch
        {
            ResourceHealth.Healthy => DashboardHealth.Healthy,
            ResourceHealth.Unhealthy => DashboardHealth.Unhealthy,
            _ => DashboardHealth.Unknown,
        },
        Endpoints = r.Endpoints.Select(e => new ResourceEndpoint(e.Key, e.Value.ToString())).ToArray(),
        Restarts = r.Restarts,
        ProcessId = r.ProcessId,
        StartedAt = r.StartedAt,
        ExitCode = r.ExitCode,
    }).ToArray();

    public ConsoleLogBuffer? GetConsoleLogs(string resourceName) => resources.FirstOrDefault(r => r.Name == resourceName)?.Logs;
}
