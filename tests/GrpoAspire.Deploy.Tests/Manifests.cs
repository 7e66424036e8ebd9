using System.Collections.Concurrent;
using k8s;
using k8s.Models;

namespace GrpoAspire.Deploy.Tests;

/// <summary>The objects of one kustomization as <c>kubectl kustomize</c> renders it, loaded strictly by
/// KubernetesClient (a field the Kubernetes API does not know fails the load), with typed views.</summary>
public sealed class Manifests
{
    private static readonly ConcurrentDictionary<string, Lazy<Manifests>> Rendered = new();

    private Manifests(IReadOnlyList<object> objects)
    {
        Objects = objects;
        Deployments = objects.OfType<V1Deployment>().ToList();
        Services = objects.OfType<V1Service>().ToList();
        ConfigMaps = objects.OfType<V1ConfigMap>().ToList();
        Secrets = objects.OfType<V1Secret>().ToList();
        Claims = objects.OfType<V1PersistentVolumeClaim>().ToList();
    }

    public IReadOnlyList<object> Objects { get; }

    public IReadOnlyList<V1Deployment> Deployments { get; }

    public IReadOnlyList<V1Service> Services { get; }

    public IReadOnlyList<V1ConfigMap> ConfigMaps { get; }

    public IReadOnlyList<V1Secret> Secrets { get; }

    public IReadOnlyList<V1PersistentVolumeClaim> Claims { get; }

    /// <summary><c>deploy/k8s/{kustomization}</c> ("base", "overlays/cpu"), rendered once per test run.</summary>
    public static Manifests Render(string kustomization) =>
        Rendered.GetOrAdd(kustomization, name => new Lazy<Manifests>(() =>
            Parse(Kubectl.Kustomize(Path.Combine(RepoRoot.Path, "deploy", "k8s", name))))).Value;

    /// <summary>The overlay <paramref name="overlay"/> ("cpu", "gpu").</summary>
    public static Manifests Overlay(string overlay) => Render($"overlays/{overlay}");

    public static Manifests Parse(string yaml) => new(KubernetesYaml.LoadAllFromString(yaml, strict: true));

    public V1Deployment Deployment(string name) => Deployments.Single(deployment => deployment.Metadata.Name == name);

    public V1Service Service(string name) => Services.Single(service => service.Metadata.Name == name);

    /// <summary>The single container of deployment <paramref name="name"/>.</summary>
    public V1Container Container(string name) => Deployment(name).Spec.Template.Spec.Containers.Single();

    /// <summary>A container's variables as the kubelet builds them: envFrom first, then env, which wins. Values
    /// from ConfigMaps and Secrets are resolved; those from fields are null.</summary>
    public IReadOnlyDictionary<string, string?> EnvironmentOf(V1Container container)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            if (source.ConfigMapRef is { } configMap)
            {
                foreach (var (key, value) in ConfigMaps.Single(map => map.Metadata.Name == configMap.Name).Data ?? new Dictionary<string, string>())
                {
                    environment[(source.Prefix ?? string.Empty) + key] = value;
                }
            }

            if (source.SecretRef is { } secretRef)
            {
                var secret = Secrets.Single(secret => secret.Metadata.Name == secretRef.Name);
                foreach (var key in (secret.Data?.Keys ?? []).Concat(secret.StringData?.Keys ?? []))
                {
                    environment[(source.Prefix ?? string.Empty) + key] = SecretValue(secret.Metadata.Name, key);
                }
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            environment[variable.Name] = variable.ValueFrom?.ConfigMapKeyRef is { } reference
                ? ConfigMaps.SingleOrDefault(map => map.Metadata.Name == reference.Name)?.Data.ValueOrNull(reference.Key)
                : variable.ValueFrom?.SecretKeyRef is { } secretKey
                    ? SecretValue(secretKey.Name, secretKey.Key)
                    : variable.Value;
        }

        return environment;
    }

    /// <summary>The text of key <paramref name="key"/> of the rendered Secret <paramref name="name"/>; null if none has it.</summary>
    public string? SecretValue(string name, string key)
    {
        var secret = Secrets.SingleOrDefault(secret => secret.Metadata.Name == name);
        return secret?.StringData?.ValueOrNull(key)
            ?? (secret?.Data is { } data && data.TryGetValue(key, out var bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : null);
    }

    /// <summary>The volume of <paramref name="deployment"/> mounted in its container at the longest prefix of <paramref name="path"/>.</summary>
    public V1Volume? VolumeHolding(string deployment, string path)
    {
        var pod = Deployment(deployment).Spec.Template.Spec;
        var mount = pod.Containers.Single().VolumeMounts?
            .Where(mount => path == mount.MountPath || path.StartsWith(mount.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
            .MaxBy(mount => mount.MountPath.Length);
        return mount is null ? null : pod.Volumes.Single(volume => volume.Name == mount.Name);
    }
}

internal static class DictionaryExtensions
{
    /// <summary>The value of <paramref name="key"/>, or null (KubernetesClient's maps are IDictionary, often null).</summary>
    public static T? ValueOrNull<T>(this IDictionary<string, T>? map, string key)
        where T : class =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;
}

/// <summary>The repository root: the first folder above the test binaries that holds GrpoAspire.sln.</summary>
public static class RepoRoot
{
    public static string Path { get; } = Find(AppContext.BaseDirectory);

    private static string Find(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "GrpoAspire.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no GrpoAspire.sln in {start} or any folder above it");
    }
}
