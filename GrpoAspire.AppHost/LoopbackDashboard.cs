using System.Net;
using System.Net.Sockets;

namespace GrpoAspire.AppHost;

/// <summary>
/// Where the Aspire Dashboard listens unless the environment says otherwise: plain HTTP on loopback (a fresh machine
/// has no developer HTTPS certificate), the UI on 127.0.0.1:18888, OTLP (gRPC) on 18889, the resource service on 18887.
/// Passed as configuration arguments, not environment variables, since DCP hands the AppHost's environment to every
/// resource.
/// </summary>
public static class LoopbackDashboard
{
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:18888",
        ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = "http://127.0.0.1:18889",
        ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = "http://127.0.0.1:18887",
    };

    /// <summary>
    /// The first dashboard address (UI, OTLP, resource service) whose port is taken, most often by another AppHost; null
    /// when all are free. Checked before the start, which would otherwise end in a stack trace.
    /// </summary>
    public static string? AddressInUse()
    {
        foreach (var (name, fallback) in Defaults)
        {
            var configured = Environment.GetEnvironmentVariable(name) ?? fallback;
            foreach (var url in configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && IPAddress.TryParse(uri.Host, out var address) && uri.Port > 0 && !IsFree(address, uri.Port))
                {
                    return $"{url} ({name})";
                }
            }
        }

        return null;
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static DistributedApplicationOptions Options(IReadOnlyList<string> aspireArguments) => new()
    {
        Args = [.. aspireArguments, .. Defaults.Where(d => Environment.GetEnvironmentVariable(d.Key) is null).Select(d => $"--{d.Key}={d.Value}")],
        AllowUnsecuredTransport = true,
    };
}
