using System.ComponentModel.DataAnnotations;
using GrpoAspire.Dashboard.Api;
using GrpoAspire.Dashboard.Completions;
using GrpoAspire.Dashboard.Hosting;
using GrpoAspire.Dashboard.Otlp;
using GrpoAspire.Dashboard.Resources;
using GrpoAspire.Dashboard.Telemetry;
using GrpoAspire.Dashboard.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace GrpoAspire.Dashboard;

/// <summary>
/// The running dashboard: OTLP in over gRPC and HTTP, the web UI and JSON API out. The AppHost starts one,
/// hands its <see cref="OtlpGrpcUrl"/> to the services as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, reports its
/// resources through an <see cref="IResourceCatalog"/>, and disposes it on shutdown.
/// </summary>
public sealed class DashboardHost : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);
    private readonly IReadOnlyList<WebApplication> _apps;
    private int _disposed;

    private DashboardHost(IReadOnlyList<WebApplication> apps, TelemetryStore store, Uri ui, Uri otlpGrpc, Uri otlpHttp)
    {
        _apps = apps;
        Store = store;
        UiUrl = ui;
        OtlpGrpcUrl = otlpGrpc;
        OtlpHttpUrl = otlpHttp;
    }

    /// <summary>The web UI, and the JSON API under <c>api/</c>: <c>http://127.0.0.1:18888/</c>.</summary>
    public Uri UiUrl { get; }

    /// <summary>OTLP/gRPC, for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> with protocol <c>grpc</c>: <c>http://127.0.0.1:18889/</c>.</summary>
    public Uri OtlpGrpcUrl { get; }

    /// <summary>OTLP/HTTP, for protocol <c>http/protobuf</c> (the SDKs append <c>v1/traces</c> ...): <c>http://127.0.0.1:18890/</c>.</summary>
    public Uri OtlpHttpUrl { get; }

    internal TelemetryStore Store { get; }

    /// <summary>
    /// Validates <paramref name="options"/>, binds the three endpoints (port 0 = a free port, read the bound
    /// one from the URL properties) and starts serving. Throws when a port is taken; nothing stays bound then.
    /// </summary>
    /// <param name="completions">Source of the Completions tab; null shows an empty tab.</param>
    /// <param name="loggerFactory">Where the dashboard's own ASP.NET Core logs go; null keeps it silent.</param>
    public static async Task<DashboardHost> StartAsync(
        DashboardOptions options,
        IResourceCatalog catalog,
        ICompletionSource? completions = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        // Fail on a bad host name before anything binds.
        _ = DashboardApps.ParseAddress(options.Host);

        var store = new TelemetryStore(options);
        var receiver = new OtlpReceiver(store, options);
        var assets = StaticAssets.Load();
        var started = new List<WebApplication>();
        try
        {
            var grpc = await StartAppAsync(DashboardApps.OtlpGrpc(options, receiver, loggerFactory), started, cancellationToken);
            var http = await StartAppAsync(DashboardApps.OtlpHttp(options, receiver, loggerFactory), started, cancellationToken);
            var context = new DashboardContext(options, catalog, completions, store, grpc.ToString(), http.ToString());
            var ui = await StartAppAsync(DashboardApps.Ui(options, context, assets, loggerFactory), started, cancellationToken);
            return new DashboardHost(started, store, ui, grpc, http);
        }
        catch
        {
            await StopAllAsync(started);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await StopAllAsync(_apps);
        }
    }

    private static async Task<Uri> StartAppAsync(WebApplication app, List<WebApplication> started, CancellationToken cancellationToken)
    {
        started.Add(app);
        await app.StartAsync(cancellationToken);
        // Kestrel writes the bound address (with the real port when 0 was asked) once listening.
        return new Uri(app.Urls.Single().TrimEnd('/') + "/");
    }

    private static async Task StopAllAsync(IEnumerable<WebApplication> apps)
    {
        foreach (var app in apps.Reverse())
        {
            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                await app.StopAsync(timeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
            {
                // Never started, or did not drain in time: disposing below closes what is left.
            }

            await app.DisposeAsync();
        }
    }
}
