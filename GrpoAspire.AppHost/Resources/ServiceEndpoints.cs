namespace GrpoAspire.AppHost.Resources;

/// <summary>The two loopback endpoints of every GrpoAspire service, as its Kestrel configuration names them.</summary>
public static class ServiceEndpoints
{
    /// <summary>HTTP/1.1: /health, /alive (and the trainer's run page).</summary>
    public const string Http = "http";

    /// <summary>
    /// The endpoints come from <see cref="WithServiceEndpoints"/>, not from the fixed ports of the services'
    /// appsettings.json (which Aspire would otherwise read), so that replicas and concurrent runs do not collide.
    /// </summary>
    public static void Own(ProjectResourceOptions options)
    {
        options.ExcludeKestrelEndpoints = true;
        options.ExcludeLaunchProfile = true;
    }

    /// <summary>
    /// <c>grpc</c> (HTTP/2 cleartext: gRPC) and <c>http</c> (HTTP/1.1), on ports DCP allocates, not proxied (the weight
    /// stream goes straight from trainer to replica), bound to 127.0.0.1 through the services' Kestrel endpoints;
    /// healthy when <c>/health</c> answers 200.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithServiceEndpoints(this IResourceBuilder<ProjectResource> project)
    {
        project
            .WithEndpoint(ResourceNames.GrpcEndpoint, endpoint =>
            {
                endpoint.UriScheme = "http";
                endpoint.Transport = "http2";
                endpoint.IsProxied = false;
            })
            .WithEndpoint(Http, endpoint =>
            {
                endpoint.UriScheme = "http";
                endpoint.IsProxied = false;
            });
        var grpc = project.GetEndpoint(ResourceNames.GrpcEndpoint);
        var http = project.GetEndpoint(Http);
        return project
            .WithEnvironment("Kestrel__Endpoints__Grpc__Url", ReferenceExpression.Create($"http://127.0.0.1:{grpc.Property(EndpointProperty.TargetPort)}"))
            .WithEnvironment("Kestrel__Endpoints__Http__Url", ReferenceExpression.Create($"http://127.0.0.1:{http.Property(EndpointProperty.TargetPort)}"))
            // Aspire also hands a project ASPNETCORE_URLS and HTTP_PORTS for these endpoints (on localhost, and on every
            // interface for HTTP_PORTS); the Kestrel endpoints above take precedence over them, with a warning.
            .WithEnvironment(context =>
            {
                context.EnvironmentVariables.Remove("ASPNETCORE_URLS");
                context.EnvironmentVariables.Remove("HTTP_PORTS");
            })
            // Telemetry reaches the dashboard within a second or so (Aspire sets these for Development AppHosts only).
            .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "1000")
            .WithEnvironment("OTEL_BLRP_SCHEDULE_DELAY", "1000")
            .WithEnvironment("OTEL_METRIC_EXPORT_INTERVAL", "1000")
            // One plain line per log record: readable in the dashboard's console view and echoed on the AppHost's console.
            .WithEnvironment("Logging__Console__FormatterName", "simple")
            .WithEnvironment("Logging__Console__FormatterOptions__SingleLine", "true")
            .WithEnvironment("Logging__Console__FormatterOptions__ColorBehavior", "Disabled")
            .WithHttpHealthCheck(ServiceDefaultsExtensions.HealthEndpointPath, endpointName: Http);
    }
}
