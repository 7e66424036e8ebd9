using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every GrpoAspire service shares, with the names and contract of Aspire's ServiceDefaults:
/// OpenTelemetry (OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), <c>/health</c> + <c>/alive</c>
/// + gRPC health, service discovery (<c>services__{name}__{scheme}__0</c>) and resilience for short
/// HTTP calls.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    private const string LiveTag = "live";

    /// <summary>
    /// A service's builder with the service defaults added: named after <paramref name="serviceAssembly"/>, with
    /// appsettings.json read from beside the binary whatever the working directory (tests, containers).
    /// </summary>
    public static WebApplicationBuilder CreateServiceBuilder(string[] args, System.Reflection.Assembly serviceAssembly)
    {
        ArgumentNullException.ThrowIfNull(serviceAssembly);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = serviceAssembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddServiceDefaults();
        return builder;
    }

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Short unary calls only: long gRPC streams set their own deadlines and never retry.
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(GrpoTelemetry.MeterName))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(GrpoTelemetry.ActivitySourceName)
                // A gRPC client call's own span (Grpc.Net.Client.GrpcOut): the HTTP request span's parent, without which
                // a replica's reward calls would hang in the step's trace with a missing parent.
                .AddSource("Grpc.Net.Client")
                .AddAspNetCoreInstrumentation(options =>
                    // Probes would drown the traces of GRPO steps.
                    options.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation());
        // No Redis instrumentation here: Aspire's client integration (AddRedisClient, through AddGrpoRedis in
        // GrpoAspire.Coordination) adds its own to this tracer provider; a second one would trace every command twice.

        if (builder.Configuration[JsonlSpanExporter.PathVariable] is { Length: > 0 } traceFile)
        {
            var service = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : builder.Environment.ApplicationName;
            builder.Services.AddOpenTelemetry().WithTracing(tracing =>
                tracing.AddProcessor(new SimpleActivityExportProcessor(new JsonlSpanExporter(traceFile, service))));
        }

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // Endpoint, protocol, service name and resource attributes come from the standard
            // OTEL_* variables that an orchestrator sets.
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        builder.Services.AddGrpcHealthChecks();
        return builder;
    }

    /// <summary>Maps <c>/health</c> (all checks), <c>/alive</c> (liveness only) and gRPC health.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
        });
        app.MapGrpcHealthChecksService();
        return app;
    }
}
