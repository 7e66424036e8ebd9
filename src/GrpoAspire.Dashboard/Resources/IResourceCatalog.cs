namespace GrpoAspire.Dashboard.Resources;

/// <summary>
/// What the host (the AppHost) knows about the processes and containers it runs. The dashboard only reads
/// it, on every API request, so an implementation returns a consistent snapshot and never blocks for long.
/// </summary>
public interface IResourceCatalog
{
    /// <summary>Every resource, in the order the UI lists them.</summary>
    IReadOnlyList<ResourceSnapshot> GetResources();

    /// <summary>The captured console output of <paramref name="resourceName"/>, or null for an unknown name.</summary>
    ConsoleLogBuffer? GetConsoleLogs(string resourceName);
}
