namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Names of the resources as the AppHost, Kubernetes and every client use them: service discovery reads
/// <c>services__{name}__{endpoint}__0</c>, connection strings <c>ConnectionStrings__{name}</c>.
/// </summary>
public static class ResourceNames
{
    public const string Redis = "redis";
    public const string Reward = "reward";
    public const string Generation = "generation";
    public const string Trainer = "trainer";

    /// <summary>The HTTP/2 endpoint of a service (gRPC); its HTTP/1.1 one (health) is named "http".</summary>
    public const string GrpcEndpoint = "grpc";

    /// <summary>A service-discovery address of the gRPC endpoint of <paramref name="service"/>: <c>http://_grpc.reward</c>.</summary>
    public static Uri GrpcAddress(string service) => new($"http://_{GrpcEndpoint}.{service}");
}
