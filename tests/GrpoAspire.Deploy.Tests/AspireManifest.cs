using System.Diagnostics;
using System.Text.Json;

namespace GrpoAspire.Deploy.Tests;

/// <summary>A port of an Aspire resource: <c>bindings.{name}</c> in the manifest.</summary>
public sealed record AspireBinding(string Name, string Scheme, string Protocol, string Transport);

/// <summary>One entry of the manifest's <c>resources</c>, with what the drift tests compare.</summary>
public sealed record AspireResource(
    string Name,
    string Type,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyDictionary<string, AspireBinding> Bindings,
    string? ConnectionString,
    bool Secret)
{
    /// <summary>Parameters (<c>parameter.v0</c>) are values, not processes.</summary>
    public bool IsParameter => Type == "parameter.v0";

    /// <summary>What runs as a process (a pod in Kubernetes): projects, executables, containers.</summary>
    public bool IsWorkload => Type.StartsWith("project.", StringComparison.Ordinal)
        || Type.StartsWith("executable.", StringComparison.Ordinal)
        || Type.StartsWith("container.", StringComparison.Ordinal);
}

/// <summary>
/// The AppHost's Aspire manifest as its own publisher writes it (<c>GrpoAspire.AppHost.dll --publisher manifest</c>),
/// published once per test run from the AppHost built beside these tests (same configuration and framework: the test
/// project references it with ReferenceOutputAssembly=false, so it is built first).
/// </summary>
public sealed class AspireManifest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<AspireManifest> PublishedOnce = new(Publish);

    private AspireManifest(IReadOnlyDictionary<string, AspireResource> resources) => Resources = resources;

    public IReadOnlyDictionary<string, AspireResource> Resources { get; }

    public IEnumerable<AspireResource> Workloads => Resources.Values.Where(resource => resource.IsWorkload);

    /// <summary>The manifest of the AppHost with no options (what <c>dotnet run --project GrpoAspire.AppHost</c> runs).</summary>
    public static AspireManifest Published => PublishedOnce.Value;

    /// <summary>
    /// <c>GrpoAspire.AppHost/bin/{configuration}/{framework}/GrpoAspire.AppHost.dll</c>, with this test binary's own
    /// <c>bin/{configuration}/{framework}</c>.
    /// </summary>
    public static string AppHostDll
    {
        get
        {
            var tests = Path.Combine(RepoRoot.Path, "tests", "GrpoAspire.Deploy.Tests");
            var output = Path.GetRelativePath(tests, AppContext.BaseDirectory);
            return Path.Combine(RepoRoot.Path, "GrpoAspire.AppHost", output, "GrpoAspire.AppHost.dll");
        }
    }

    public static AspireManifest Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var resources = new Dictionary<string, AspireResource>(StringComparer.Ordinal);
        foreach (var resource in document.RootElement.GetProperty("resources").EnumerateObject())
        {
            var value = resource.Value;
            resources[resource.Name] = new AspireResource(
                resource.Name,
                value.GetProperty("type").GetString()!,
                Strings(value, "env"),
                Bindings(value),
                value.TryGetProperty("connectionString", out var connection) ? connection.GetString() : null,
                value.TryGetProperty("inputs", out var inputs) && inputs.TryGetProperty("value", out var input)
                    && input.TryGetProperty("secret", out var secret) && secret.GetBoolean());
        }

        return new AspireManifest(resources);
    }

    private static AspireManifest Publish()
    {
        var dll = AppHostDll;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} does not exist: build GrpoAspire.AppHost in the configuration of these tests");
        }

        var folder = Directory.CreateTempSubdirectory("grpo-aspire-manifest-").FullName;
        try
        {
            var path = Path.Combine(folder, "aspire-manifest.json");
            // DOTNET_HOST_PATH: the dotnet that runs the tests (dotnet test sets it).
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
            {
                ArgumentList = { dll, "--publisher", "manifest", "--output-path", path },
                WorkingDirectory = folder,
            };
            ToolProcess.Run(start, Timeout, "the AppHost's manifest publisher");
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"the AppHost's manifest publisher wrote no {path}");
            }

            return Parse(File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Dictionary<string, string> Strings(JsonElement resource, string property) =>
        resource.TryGetProperty(property, out var map)
            ? map.EnumerateObject().ToDictionary(pair => pair.Name, pair => pair.Value.GetString() ?? string.Empty, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    private static Dictionary<string, AspireBinding> Bindings(JsonElement resource) =>
        resource.TryGetProperty("bindings", out var bindings)
            ? bindings.EnumerateObject().ToDictionary(
                binding => binding.Name,
                binding => new AspireBinding(
                    binding.Name,
                    binding.Value.GetProperty("scheme").GetString()!,
                    binding.Value.GetProperty("protocol").GetString()!,
                    binding.Value.GetProperty("transport").GetString()!),
                StringComparer.Ordinal)
            : new Dictionary<string, AspireBinding>(StringComparer.Ordinal);
}
