using System.Text.RegularExpressions;

namespace GrpoAspire.Deploy.Tests;

/// <summary>
/// Which environment variables make up the app's contract, which are the AppHost's local wiring, and which Kubernetes
/// sets on purpose without the AppHost: the lists <see cref="AspireManifestTests"/> compares the two deployments by.
/// A variable of the manifest in no list fails the tests: decide where it belongs, and say why here.
/// </summary>
public static partial class EnvironmentContract
{
    /// <summary>The contract: what the services read, which both deployments must give the same resources.</summary>
    public static bool IsContract(string name) => Contract().IsMatch(name);

    /// <summary>
    /// Why a variable of the manifest is the AppHost's own and Kubernetes need not set it; null when it is not.
    /// </summary>
    public static string? LocalOnlyReason(string name, AspireManifest manifest) =>
        LocalOnly.FirstOrDefault(rule => rule.Pattern.IsMatch(name)).Reason
        ?? (IsEndpointUrlVariable(name, manifest)
            // Aspire 13 gives each endpoint of a reference twice, as services__reward__grpc__0 (service discovery, which
            // the services use) and as REWARD_GRPC (for clients that read one variable); nothing here reads the second.
            ? "Aspire's <RESOURCE>_<ENDPOINT> duplicate of services__<resource>__<endpoint>__0"
            : null);

    /// <summary>
    /// Contract variables Kubernetes sets and the manifest does not have, each with the reason. Every entry must still be
    /// one (set by some kustomization, absent from the manifest): a stale entry fails a test.
    /// </summary>
    public static IReadOnlyDictionary<string, string> KubernetesOnly { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Trainer__Model"] = "the AppHost passes the starting model only with --model (by default the recipe names it); "
            + "Kubernetes mounts it at /models/policy",
        ["Generation__ModelPath"] = "the AppHost learns it from the trainer at run time (the model the trainer loaded), so it "
            + "is not in the manifest; Kubernetes mounts the same folder as the trainer's Trainer__Model",
        ["Trainer__Device"] = "gpu overlay: the AppHost sets no device, its services inherit Trainer__Device from its own "
            + "environment (DCP passes the AppHost's environment to every resource)",
        ["Generation__Device"] = "gpu overlay: inherited from the AppHost's environment, as Trainer__Device",
        ["Generation__Dtype"] = "gpu overlay: inherited from the AppHost's environment, as Trainer__Device",
    };

    private static readonly (Regex Pattern, string Reason)[] LocalOnly =
    [
        (new("^Kestrel__Endpoints__"), "the AppHost binds each service to 127.0.0.1 on ports DCP allocates; Kubernetes "
            + "binds http://+:8080 and :8081 (ConfigMap grpo-env)"),
        (new("^ASPNETCORE_"), "ASPNETCORE_FORWARDEDHEADERS_ENABLED: Aspire's default for projects behind its proxy; "
            + "our endpoints are not proxied"),
        (new("^Logging__Console__"), "one plain line per log record, for the dashboard's console view"),
        (new("^OTEL_"), "telemetry wiring to the AppHost's dashboard; Kubernetes sets OTEL_SERVICE_NAME and, optionally, "
            + "OTEL_EXPORTER_OTLP_ENDPOINT (grpo-env) itself"),
    ];

    private static bool IsEndpointUrlVariable(string name, AspireManifest manifest) =>
        manifest.Workloads.Any(resource => resource.Bindings.Keys.Any(binding =>
            name == $"{resource.Name}_{binding}".ToUpperInvariant()));

    [GeneratedRegex("^(ConnectionStrings__.+|services__[^_]+__[^_]+__[0-9]+|Security__Token|Trainer__.+|Generation__.+)$")]
    private static partial Regex Contract();
}
