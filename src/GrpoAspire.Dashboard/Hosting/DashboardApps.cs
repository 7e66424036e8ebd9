using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Grpc.AspNetCore.Server.Model;
using GrpoAspire.Dashboard.Api;
using GrpoAspire.Dashboard.Otlp;
using GrpoAspire.Dashboard.Otlp.Protocol;
using GrpoAspire.Dashboard.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GrpoAspire.Dashboard.Hosting;

/// <summary>
/// Builds the three web applications of the dashboard, one per listener, so that each port serves only its
/// own protocol: OTLP/gRPC (HTTP/2 only), OTLP/HTTP, and the UI + API. Each starts from an empty builder:
/// the dashboard runs inside the AppHost and must not pick up the host's appsettings, <c>ASPNETCORE_URLS</c>
/// or Kestrel section.
/// </summary>
internal static class DashboardApps
{
    public static WebApplication OtlpGrpc(DashboardOptions options, OtlpReceiver receiver, ILoggerFactory? loggerFactory)
    {
        // No Kestrel body limit here: gRPC's MaxReceiveMessageSize bounds the one message of a unary call and
        // answers RESOURCE_EXHAUSTED from its length prefix, while a body limit would race it and end some
        // oversized calls with an UNKNOWN "exception thrown by handler".
        var builder = CreateBuilder(options, options.OtlpGrpcPort, HttpProtocols.Http2, maxRequestBodyBytes: null, loggerFactory);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
        });
        builder.Services.AddSingleton(receiver);
        builder.Services.AddSingleton<OtlpTraceService>();
        builder.Services.AddSingleton<OtlpMetricsService>();
        builder.Services.AddSingleton<OtlpLogsService>();
        builder.Services.AddSingleton<IServiceMethodProvider<OtlpTraceService>>(
            new OtlpExportMethodProvider<OtlpTraceService, ExportTraceServiceRequest, ExportTraceServiceResponse>(
                OtlpTraceService.ExportMethod, (service, request, context) => service.Export(request, context)));
        builder.Services.AddSingleton<IServiceMethodProvider<OtlpMetricsService>>(
            new OtlpExportMethodProvider<OtlpMetricsService, ExportMetricsServiceRequest, ExportMetricsServiceResponse>(
                OtlpMetricsService.ExportMethod, (service, request, context) => service.Export(request, context)));
        builder.Services.AddSingleton<IServiceMethodProvider<OtlpLogsService>>(
            new OtlpExportMethodProvider<OtlpLogsService, ExportLogsServiceRequest, ExportLogsServiceResponse>(
                OtlpLogsService.ExportMethod, (service, request, context) => service.Export(request, context)));

        var app = builder.Build();
        app.MapGrpcService<OtlpTraceService>();
        app.MapGrpcService<OtlpMetricsService>();
        app.MapGrpcService<OtlpLogsService>();
        return app;
    }

    public static WebApplication OtlpHttp(DashboardOptions options, OtlpReceiver receiver, ILoggerFactory? loggerFactory)
    {
        var builder = CreateBuilder(options, options.OtlpHttpPort, HttpProtocols.Http1AndHttp2, options.MaxMessageBytes, loggerFactory);
        builder.Services.AddRouting();
        var app = builder.Build();
        app.MapOtlpHttp(receiver, options.MaxMessageBytes);
        return app;
    }

    public static WebApplication Ui(DashboardOptions options, DashboardContext context, StaticAssets assets, ILoggerFactory? loggerFactory)
    {
        // The UI only reads: no request needs a body.
        var builder = CreateBuilder(options, options.UiPort, HttpProtocols.Http1AndHttp2, maxRequestBodyBytes: 64 * 1024, loggerFactory);
        builder.Services.AddRouting();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // A diverged KL is NaN: write "NaN" rather than fail the whole response.
            json.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });

        var app = builder.Build();
        app.Use((httpContext, next) =>
        {
            StaticAssets.AddSecurityHeaders(httpContext.Response);
            return next(httpContext);
        });
        app.MapDashboardApi(context);
        assets.Map(app);
        return app;
    }

    private static WebApplicationBuilder CreateBuilder(
        DashboardOptions options, int port, HttpProtocols protocols, long? maxRequestBodyBytes, ILoggerFactory? loggerFactory)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(DashboardApps).Assembly.GetName().Name,
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = options.MaxConnections;
            kestrel.Limits.MaxRequestBodySize = maxRequestBodyBytes;
            kestrel.Listen(ParseAddress(options.Host), port, listen => listen.Protocols = protocols);
        });
        if (loggerFactory is not null)
        {
            // The host's factory, not owned: the container does not dispose an instance it was given.
            builder.Services.AddSingleton(loggerFactory);
        }

        return builder;
    }

    public static IPAddress ParseAddress(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(host, out var address) ? address
        : throw new ArgumentException($"Dashboard Host '{host}' is not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or localhost)");
}
