using System.Text.RegularExpressions;

namespace GrpoAspire.AppHost;

/// <summary>
/// Echoes the console output of redis-server and the services on the AppHost's console, prefixed with the resource's
/// name (<c>[trainer] step 3/45 ...</c>), so a terminal run shows its progress; the dashboard's Console page has the
/// same lines.
/// </summary>
internal static partial class ResourceConsole
{
    private static readonly Lock Gate = new();

    /// <summary>Starts echoing every resource's lines until the app stops.</summary>
    public static void Start(IServiceProvider services)
    {
        var model = services.GetRequiredService<DistributedApplicationModel>();
        var logs = services.GetRequiredService<ResourceLoggerService>();
        var console = services.GetRequiredService<TextWriter>();
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        foreach (var resource in model.Resources.Where(r => r is ProjectResource or Resources.RedisServerResource))
        {
            _ = EchoAsync(logs, resource, console, stopping);
        }
    }

    /// <summary>DCP stamps each line with its time (<c>2026-12-06T23:49:18.0910000Z </c>); the console has no use for it.</summary>
    internal static string WithoutTimestamp(string content) => Timestamp().Replace(content, string.Empty, 1);

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")]
    private static partial Regex Timestamp();

    private static async Task EchoAsync(ResourceLoggerService logs, IResource resource, TextWriter console, CancellationToken stopping)
    {
        try
        {
            await foreach (var batch in logs.WatchAsync(resource).WithCancellation(stopping))
            {
                lock (Gate)
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
