using System.Text.RegularExpressions;

namespace GrpoAspire.AppHost;

/// <summary>
/// Echoes every resource's console output on the AppHost's console, prefixed with its name (<c>[trainer] step 3/45 ...</c>),
/// so a terminal run shows its progress; the dashboard's Console page has the same lines.
/// </summary>
internal sealed partial class ResourceConsole(DistributedApplicationModel model, ResourceLoggerService logs, TextWriter console) : BackgroundService
{
    private readonly Lock _gate = new();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(model.Resources.Where(r => r is ProjectResource or Resources.RedisServerResource).Select(r => EchoAsync(r, stoppingToken)));

    /// <summary>DCP stamps each line with its time (<c>2026-12-06T23:49:18.0910000Z </c>); the console has no use for it.</summary>
    internal static string WithoutTimestamp(string content) => Timestamp().Replace(content, string.Empty, 1);

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")]
    private static partial Regex Timestamp();

    private async Task EchoAsync(IResource resource, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var batch in logs.WatchAsync(resource).WithCancellation(stoppingToken))
            {
                lock (_gate)
                {
                    foreach (var line in batch)
                    {
                        console.WriteLine($"[{resource.Name}] {WithoutTimestamp(line.Content)}");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
