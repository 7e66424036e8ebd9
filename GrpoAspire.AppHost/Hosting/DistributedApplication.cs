using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace GrpoAspire.AppHost.Hosting;

/// <summary>A tool the app model needs is not installed; the message says how to install it.</summary>
public sealed class MissingToolException(string message) : Exception(message);

/// <summary>
/// The part of Aspire's app model this project uses (AddRedis, AddProject, WithReference, WaitFor,
/// WithEnvironment), giving each resource the same environment Aspire would: <c>ConnectionStrings__{name}</c>,
/// <c>services__{name}__{endpoint}__0</c>, <c>OTEL_*</c>. Moving to Aspire.Hosting changes this folder only.
/// </summary>
public sealed class DistributedApplicationBuilder
{
    private readonly string _repoRoot;
    private readonly string _configuration;

    public DistributedApplicationBuilder(string? repoRoot = null, string? configuration = null)
    {
        var metadata = typeof(DistributedApplicationBuilder).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
        _repoRoot = repoRoot ?? metadata.GetValueOrDefault("RepoRoot") ?? Directory.GetCurrentDirectory();
        _configuration = configuration ?? metadata.GetValueOrDefault("Configuration") ?? "Debug";
    }

    public List<ProcessResource> Resources { get; } = [];

    /// <summary>The repository the services are built in (from the AppHost's build).</summary>
    public string RepoRoot => _repoRoot;

    /// <summary>Environment every resource gets (OTLP endpoint, resource attributes).</summary>
    public Dictionary<string, string> SharedEnvironment { get; } = [];

    /// <summary><c>redis-server</c> from PATH on a free loopback port, nothing persisted.</summary>
    public ProcessResource AddRedis(string name)
    {
        var path = FindOnPath("redis-server")
            ?? throw new MissingToolException("redis-server is not installed: install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)");
        var port = FreePort();
        var redis = new ProcessResource(name, "executable", path,
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            Path.GetTempPath())
        {
            HealthCheck = ProcessResource.RedisPing(port),
        };
        redis.Endpoints["tcp"] = new Uri($"tcp://127.0.0.1:{port}");
        Resources.Add(redis);
        return redis;
    }

    /// <summary>A service of this repository (services/{project}), run from its build output with two loopback endpoints.</summary>
    public ProcessResource AddProject(string name, string project)
    {
        var dll = Path.Combine(_repoRoot, "services", project, "bin", _configuration, "net10.0", project + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: build the AppHost (it builds the services) with `dotnet build GrpoAspire.AppHost`", dll);
        }

        var (grpc, http) = (FreePort(), FreePort());
        var resource = new ProcessResource(name, "project", "dotnet", [dll], Path.GetDirectoryName(dll)!);
        resource.Endpoints["grpc"] = new Uri($"http://127.0.0.1:{grpc}");
        resource.Endpoints["http"] = new Uri($"http://127.0.0.1:{http}");
        resource.Environment["Kestrel__Endpoints__Grpc__Url"] = resource.Endpoints["grpc"].ToString().TrimEnd('/');
        resource.Environment["Kestrel__Endpoints__Http__Url"] = resource.Endpoints["http"].ToString().TrimEnd('/');
        resource.Environment["OTEL_SERVICE_NAME"] = name;
        resource.Environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={name}-{Guid.NewGuid():N}";
        resource.Environment["DOTNET_ENVIRONMENT"] = "Development";
        resource.HealthCheck = ProcessResource.HttpHealth(new Uri(resource.Endpoints["http"], "/health"));
        Resources.Add(resource);
        return resource;
    }

    public DistributedApplication Build(TextWriter? console = null)
    {
        foreach (var resource in Resources)
        {
            foreach (var (key, value) in SharedEnvironment)
            {
                resource.Environment.TryAdd(key, value);
            }
        }

        return new DistributedApplication(Resources) { Console = console ?? System.Console.Out };
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string tool) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}

/// <summary>Aspire's reference and wait verbs.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>
    /// Gives <paramref name="resource"/> the address of <paramref name="target"/> as Aspire does: a connection string for
    /// redis (<c>ConnectionStrings__redis</c>), service-discovery entries for projects (<c>services__reward__grpc__0</c>).
    /// </summary>
    public static ProcessResource WithReference(this ProcessResource resource, ProcessResource target)
    {
        if (target.Endpoints.TryGetValue("tcp", out var tcp))
        {
            resource.Environment[$"ConnectionStrings__{target.Name}"] = $"{tcp.Host}:{tcp.Port}";
        }
        else
        {
            foreach (var (endpoint, url) in target.Endpoints)
            {
                resource.Environment[$"services__{target.Name}__{endpoint}__0"] = url.ToString().TrimEnd('/');
            }
        }

        return resource;
    }

    public static ProcessResource WaitFor(this ProcessResource resource, ProcessResource dependency)
    {
        resource.WaitsFor.Add(dependency);
        return resource;
    }

    public static ProcessResource WithEnvironment(this ProcessResource resource, string name, string value)
    {
        resource.Environment[name] = value;
        return resource;
    }
}
