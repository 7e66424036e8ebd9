using System.Text.RegularExpressions;
using k8s.Models;
using Microsoft.Extensions.Hosting;

namespace GrpoAspire.Deploy.Tests;

/// <summary>
/// deploy/k8s and the AppHost's Aspire manifest cannot drift: the same resources, ports, environment contract and
/// secret. The manifest is the AppHost's own (<see cref="AspireManifest.Published"/>); each kustomization is compared
/// with it as rendered. What is deliberately different is listed, with the reason, in <see cref="EnvironmentContract"/>.
/// </summary>
public sealed partial class AspireManifestTests
{
    /// <summary>Kinds that hold configuration and storage, not processes.</summary>
    private static readonly Type[] NotWorkloads = [typeof(V1ConfigMap), typeof(V1Secret), typeof(V1PersistentVolumeClaim)];

    public static TheoryData<string> Kustomizations => KustomizationTests.Kustomizations;

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void EveryWorkloadOfTheManifestIsADeploymentAndAServiceOfItsNameAndThereIsNoOther(string kustomization)
    {
        var manifest = AspireManifest.Published;
        var k8s = Manifests.Render(kustomization);

        Assert.All(manifest.Resources.Values, resource =>
            Assert.True(resource.IsWorkload || resource.IsParameter, $"{resource.Name}: no Kubernetes mapping for type {resource.Type} yet"));
        var workloads = manifest.Workloads.Select(resource => resource.Name).Order().ToList();
        Assert.Equal(workloads, k8s.Deployments.Select(deployment => deployment.Metadata.Name).Order());
        Assert.Equal(workloads, k8s.Services.Select(service => service.Metadata.Name).Order());
        Assert.All(k8s.Objects, item => Assert.True(
            item is V1Deployment or V1Service || NotWorkloads.Contains(item.GetType()),
            $"{item.GetType().Name} is neither a resource of the manifest nor configuration or storage"));
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void EveryBindingOfTheManifestIsANamedPortOfItsContainerAndServiceAndThereIsNoOther(string kustomization)
    {
        var k8s = Manifests.Render(kustomization);

        Assert.All(AspireManifest.Published.Workloads, resource =>
        {
            var bindings = resource.Bindings.Keys.Order().ToList();
            var container = k8s.Container(resource.Name);
            var service = k8s.Service(resource.Name);
            // The resource's name in both sides of each comparison, so that a failure says whose ports differ.
            Assert.Equal(Named(resource.Name, bindings), Named(resource.Name, (container.Ports ?? []).Select(port => port.Name)));
            Assert.Equal(Named(resource.Name, bindings), Named(resource.Name, service.Spec.Ports.Select(port => port.Name)));
            foreach (var binding in resource.Bindings.Values)
            {
                var port = service.Spec.Ports.Single(port => port.Name == binding.Name);
                var target = container.Ports!.Single(containerPort => containerPort.Name == binding.Name);
                Assert.True(port.TargetPort?.Value == binding.Name || port.TargetPort?.Value == target.ContainerPort.ToString(),
                    $"{resource.Name}: Service port {binding.Name} targets {port.TargetPort?.Value}, not the container port {binding.Name}");
                // gRPC is HTTP/2 in clear text: the Service says so, so that meshes and gateways do not speak HTTP/1.1 to it.
                Assert.Equal(binding.Transport == "http2" ? "kubernetes.io/h2c" : null, port.AppProtocol);
            }
        });
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void EveryContractVariableOfTheManifestIsSetInKubernetesAndKubernetesSetsNoOther(string kustomization)
    {
        var manifest = AspireManifest.Published;
        var k8s = Manifests.Render(kustomization);

        Assert.All(manifest.Workloads, resource =>
        {
            var unclassified = resource.Env.Keys
                .Where(name => !EnvironmentContract.IsContract(name) && EnvironmentContract.LocalOnlyReason(name, manifest) is null);
            Assert.True(!unclassified.Any(), $"{resource.Name}: {string.Join(", ", unclassified)} neither in the contract nor "
                + "local-only: add each to EnvironmentContract, with the reason");

            var expected = resource.Env.Keys.Where(EnvironmentContract.IsContract).ToHashSet();
            var set = k8s.EnvironmentOf(k8s.Container(resource.Name)).Keys.Where(EnvironmentContract.IsContract).ToHashSet();
            var missing = expected.Except(set).Order();
            var extra = set.Except(expected).Where(name => !EnvironmentContract.KubernetesOnly.ContainsKey(name)).Order();
            Assert.True(!missing.Any(), $"{resource.Name} in {kustomization} lacks {string.Join(", ", missing)} of the manifest");
            Assert.True(!extra.Any(), $"{resource.Name} in {kustomization} sets {string.Join(", ", extra)}, which the manifest does not");
        });
    }

    [KubectlFact]
    public void EveryKubernetesOnlyVariableIsStillSetByKubernetesAndStillAbsentFromTheManifest()
    {
        var manifest = AspireManifest.Published;
        var inManifest = manifest.Workloads.SelectMany(resource => resource.Env.Keys).ToHashSet();
        var inKubernetes = Kustomizations.Cast<object[]>().Select(row => Manifests.Render((string)row[0]))
            .SelectMany(k8s => k8s.Deployments.SelectMany(deployment => k8s.EnvironmentOf(deployment.Spec.Template.Spec.Containers.Single()).Keys))
            .ToHashSet();

        Assert.All(EnvironmentContract.KubernetesOnly.Keys, name =>
        {
            Assert.True(EnvironmentContract.IsContract(name), $"{name} is not a contract variable: it needs no exception");
            Assert.True(inKubernetes.Contains(name), $"{name} is set by no kustomization: remove its exception");
            Assert.False(inManifest.Contains(name), $"the manifest now has {name}: remove its exception");
        });
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void EveryAddressOfTheContractPointsAtTheSameResourceAndEndpointInKubernetes(string kustomization)
    {
        var manifest = AspireManifest.Published;
        var k8s = Manifests.Render(kustomization);
        var compared = 0;

        foreach (var resource in manifest.Workloads)
        {
            var environment = k8s.EnvironmentOf(k8s.Container(resource.Name));
            foreach (var (name, value) in resource.Env.Where(pair => EnvironmentContract.IsContract(pair.Key)))
            {
                // Literals (the run's name, local paths) differ on purpose; references to resources must not.
                if (Placeholder().IsMatch(value) && !References(value).Any(reference => manifest.Resources[reference].IsParameter))
                {
                    Assert.Equal(Resolve(value, manifest, k8s), environment[name]);
                    compared++;
                }
            }
        }

        // Trainer: the connection string; generation: the connection string and four endpoint addresses.
        Assert.Equal(6, compared);
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void EverySecretParameterReachesItsVariablesFromASecretKeyOfItsName(string kustomization)
    {
        var manifest = AspireManifest.Published;
        var k8s = Manifests.Render(kustomization);
        var secrets = manifest.Resources.Values.Where(resource => resource.IsParameter && resource.Secret).ToList();
        Assert.Contains(secrets, parameter => parameter.Name == "token");

        // The manifest's uses of a secret parameter, and Kubernetes' uses of a Secret key, as (resource, variable, key).
        var expected = manifest.Workloads
            .SelectMany(resource => resource.Env
                .SelectMany(pair => References(pair.Value).Where(reference => secrets.Any(secret => secret.Name == reference))
                    .Select(reference => (Resource: resource.Name, Variable: pair.Key, Key: reference))))
            .Order().ToList();
        var actual = k8s.Deployments
            .SelectMany(deployment => (deployment.Spec.Template.Spec.Containers.Single().Env ?? [])
                // The services' contract; redis' own REDISCLI_AUTH: RedisRequiresThePasswordItsConnectionStringCarries.
                .Where(variable => variable.ValueFrom?.SecretKeyRef is not null && EnvironmentContract.IsContract(variable.Name))
                .Select(variable => (Resource: deployment.Metadata.Name, Variable: variable.Name, variable.ValueFrom.SecretKeyRef.Key)))
            .Order().ToList();

        Assert.Contains(("trainer", "Security__Token", "token"), expected);
        Assert.Equal(expected, actual);
        // Each parameter from one rendered Secret (grpo-token-<hash>) that has its key, never from a ConfigMap or a literal.
        var references = k8s.Deployments.SelectMany(deployment => deployment.Spec.Template.Spec.Containers.Single().Env ?? [])
            .Select(variable => variable.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>().ToList();
        Assert.All(references.GroupBy(reference => reference.Key), uses => Assert.Single(uses.Select(reference => reference.Name).Distinct()));
        Assert.All(references, reference =>
            Assert.Contains(k8s.Secrets, secret => secret.Metadata.Name == reference.Name && secret.Data?.ContainsKey(reference.Key) == true));
    }

    /// <summary>
    /// The AppHost's redis-server requires its secret parameter <c>redis-password</c> (a private config file, so not in
    /// the manifest); in Kubernetes redis must require the password that the services' connection string carries, and
    /// that string must come from a Secret, never a ConfigMap.
    /// </summary>
    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void RedisRequiresThePasswordItsConnectionStringCarries(string kustomization)
    {
        var manifest = AspireManifest.Published;
        var k8s = Manifests.Render(kustomization);
        Assert.True(manifest.Resources["redis-password"] is { IsParameter: true, Secret: true }, "the manifest has no secret parameter redis-password");
        Assert.Contains("password={redis-password.value}", manifest.Resources[ResourceNames.Redis].ConnectionString, StringComparison.Ordinal);

        var redis = k8s.Container(ResourceNames.Redis);
        var password = k8s.EnvironmentOf(redis)["REDISCLI_AUTH"];
        Assert.Equal("redis-password", redis.Env.Single(variable => variable.Name == "REDISCLI_AUTH").ValueFrom.SecretKeyRef.Key);
        Assert.Contains("requirepass $REDISCLI_AUTH", string.Join(' ', redis.Command), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(password));
        foreach (var resource in manifest.Workloads.Where(resource => resource.Env.ContainsKey("ConnectionStrings__redis")))
        {
            var container = k8s.Container(resource.Name);
            Assert.Equal($"redis:6379,password={password}", k8s.EnvironmentOf(container)["ConnectionStrings__redis"]);
            Assert.Contains(container.EnvFrom, source => source.SecretRef is { } secret
                && k8s.SecretValue(secret.Name, "ConnectionStrings__redis") is not null);
        }
    }

    /// <summary>
    /// A value of the manifest with its placeholders evaluated for Kubernetes: <c>{r.bindings.b.host}</c> is the Service
    /// <c>r</c>, <c>.port</c> its port named <c>b</c>, <c>.targetPort</c> the container port, <c>.url</c>
    /// <c>scheme://host:port</c>, <c>{r.connectionString}</c> r's connection string evaluated the same way.
    /// </summary>
    private static string Resolve(string value, AspireManifest manifest, Manifests k8s) =>
        Placeholder().Replace(value, match =>
        {
            var parts = match.Groups["path"].Value.Split('.');
            var resource = manifest.Resources[parts[0]];
            return parts switch
            {
                [_, "connectionString"] => Resolve(resource.ConnectionString!, manifest, k8s),
                // A secret parameter: the value of the rendered Secret that has the key of its name (one, checked above).
                [_, "value"] when resource.IsParameter && resource.Secret =>
                    k8s.Secrets.Select(secret => k8s.SecretValue(secret.Metadata.Name, resource.Name)).OfType<string>().Single(),
                [_, "bindings", var binding, "host"] => resource.Name,
                [_, "bindings", var binding, "port"] => ServicePort(k8s, resource.Name, binding).ToString(),
                [_, "bindings", var binding, "targetPort"] => k8s.Container(resource.Name).Ports.Single(port => port.Name == binding).ContainerPort.ToString(),
                [_, "bindings", var binding, "url"] => $"{resource.Bindings[binding].Scheme}://{resource.Name}:{ServicePort(k8s, resource.Name, binding)}",
                _ => throw new InvalidOperationException($"no Kubernetes value for the manifest's {match.Value}"),
            };
        });

    private static string Named(string resource, IEnumerable<string> names) => $"{resource}: {string.Join(", ", names.Order())}";

    private static int ServicePort(Manifests k8s, string service, string name) =>
        k8s.Service(service).Spec.Ports.Single(port => port.Name == name).Port;

    /// <summary>The resources a value's placeholders name: <c>{token.value}</c> names <c>token</c>.</summary>
    private static IEnumerable<string> References(string value) =>
        Placeholder().Matches(value).Select(match => match.Groups["path"].Value.Split('.')[0]);

    [GeneratedRegex(@"\{(?<path>[A-Za-z0-9_.-]+)\}")]
    private static partial Regex Placeholder();
}
