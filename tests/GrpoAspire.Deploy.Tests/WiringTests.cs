using System.Text.RegularExpressions;
using k8s.Models;
using Microsoft.Extensions.Hosting;

namespace GrpoAspire.Deploy.Tests;

/// <summary>What connects the objects of an overlay: selectors, ports, probes, references and addresses.</summary>
public sealed partial class WiringTests
{
    public static TheoryData<string> Overlays => new() { "cpu", "gpu" };

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EveryServiceSelectsThePodsOfExactlyOneDeployment(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);

        Assert.All(manifests.Services, service =>
        {
            Assert.NotEmpty(service.Spec.Selector);
            Assert.Single(manifests.Deployments, deployment => Selects(service, deployment));
        });
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EveryServiceTargetPortIsAContainerPortOfItsPods(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);

        Assert.All(manifests.Services, service =>
        {
            var ports = manifests.Deployments.Single(deployment => Selects(service, deployment))
                .Spec.Template.Spec.Containers.SelectMany(container => container.Ports ?? []).ToList();
            Assert.All(service.Spec.Ports, port =>
                Assert.Contains(ports, containerPort => IsPort(port.TargetPort ?? port.Port, containerPort)));
        });
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EveryGrpoContainerIsAliveOnAliveAndReadyOnHealthAtItsHttpPort(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);

        Assert.All(new[] { ResourceNames.Reward, ResourceNames.Generation, ResourceNames.Trainer }, name =>
        {
            var container = manifests.Container(name);
            Assert.Equal(ServiceDefaultsExtensions.AlivenessEndpointPath, container.LivenessProbe?.HttpGet?.Path);
            Assert.Equal(ServiceDefaultsExtensions.HealthEndpointPath, container.ReadinessProbe?.HttpGet?.Path);
            Assert.Equal("http", container.LivenessProbe!.HttpGet.Port.Value);
            Assert.Equal("http", container.ReadinessProbe!.HttpGet.Port.Value);
        });
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EveryProbeOfEveryContainerChecksAnExistingPort(string overlay)
    {
        var containers = Manifests.Overlay(overlay).Deployments.SelectMany(deployment => deployment.Spec.Template.Spec.Containers);

        Assert.All(containers, container =>
        {
            Assert.NotNull(container.LivenessProbe);
            Assert.NotNull(container.ReadinessProbe);
            var probes = new[] { container.LivenessProbe, container.ReadinessProbe, container.StartupProbe }.OfType<V1Probe>();
            foreach (var port in probes.Select(probe => probe.HttpGet?.Port ?? probe.TcpSocket?.Port ?? probe.Grpc?.Port).OfType<IntOrString>())
            {
                Assert.Contains(container.Ports ?? [], containerPort => IsPort(port, containerPort));
            }
        });
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EverySecretAndConfigMapReferenceNamesARenderedObjectAndKey(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var pods = manifests.Deployments.Select(deployment => deployment.Spec.Template.Spec).ToList();

        foreach (var container in pods.SelectMany(pod => pod.Containers))
        {
            foreach (var source in container.EnvFrom ?? [])
            {
                Assert.True(source.ConfigMapRef is null || HasConfigMap(manifests, source.ConfigMapRef.Name), $"envFrom ConfigMap {source.ConfigMapRef?.Name}");
                Assert.True(source.SecretRef is null || HasSecret(manifests, source.SecretRef.Name), $"envFrom Secret {source.SecretRef?.Name}");
            }

            foreach (var variable in container.Env ?? [])
            {
                if (variable.ValueFrom?.SecretKeyRef is { } secret)
                {
                    Assert.True(HasSecret(manifests, secret.Name, secret.Key), $"{variable.Name}: Secret {secret.Name} key {secret.Key}");
                }

                if (variable.ValueFrom?.ConfigMapKeyRef is { } map)
                {
                    // An optional key may be missing; its ConfigMap may not.
                    Assert.True(HasConfigMap(manifests, map.Name, map.Optional == true ? null : map.Key), $"{variable.Name}: ConfigMap {map.Name} key {map.Key}");
                }
            }
        }

        foreach (var volume in pods.SelectMany(pod => pod.Volumes ?? []))
        {
            Assert.True(volume.ConfigMap is null || HasConfigMap(manifests, volume.ConfigMap.Name), $"volume {volume.Name}: ConfigMap {volume.ConfigMap?.Name}");
            Assert.True(volume.Secret is null || HasSecret(manifests, volume.Secret.SecretName), $"volume {volume.Name}: Secret {volume.Secret?.SecretName}");
            Assert.True(
                volume.PersistentVolumeClaim is null || manifests.Claims.Any(claim => claim.Metadata.Name == volume.PersistentVolumeClaim.ClaimName),
                $"volume {volume.Name}: PersistentVolumeClaim {volume.PersistentVolumeClaim?.ClaimName}");
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EveryServiceAddressInTheEnvironmentIsARenderedServiceAndPort(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var addresses = 0;

        foreach (var container in manifests.Deployments.SelectMany(deployment => deployment.Spec.Template.Spec.Containers))
        {
            foreach (var (name, value) in manifests.EnvironmentOf(container))
            {
                if (ServiceVariable().Match(name) is { Success: true } service)
                {
                    // services__reward__grpc__0=http://reward:8080: Service "reward", its port 8080 named "grpc".
                    var uri = new Uri(value!);
                    Assert.Equal(service.Groups["service"].Value, uri.Host);
                    var port = Assert.Single(manifests.Service(uri.Host).Spec.Ports, port => port.Port == uri.Port);
                    Assert.Equal(service.Groups["endpoint"].Value, port.Name);
                    addresses++;
                }
                else if (ConnectionStringVariable().Match(name) is { Success: true } connection)
                {
                    // ConnectionStrings__redis=redis:6379[,options]: Service "redis" with port 6379.
                    var hostAndPort = value!.Split(',')[0].Split(':');
                    Assert.Equal(connection.Groups["resource"].Value, hostAndPort[0]);
                    Assert.Contains(manifests.Service(hostAndPort[0]).Spec.Ports, port => port.Port == int.Parse(hostAndPort[1]));
                    addresses++;
                }
            }
        }

        // Generation gets redis and both endpoints of reward and trainer; the trainer redis; reward none.
        Assert.Equal(6, addresses);
    }

    internal static bool Selects(V1Service service, V1Deployment deployment) =>
        service.Spec.Selector.All(pair =>
            deployment.Spec.Template.Metadata.Labels?.TryGetValue(pair.Key, out var value) == true && value == pair.Value);

    private static bool IsPort(IntOrString port, V1ContainerPort containerPort) =>
        int.TryParse(port.Value, out var number) ? containerPort.ContainerPort == number : containerPort.Name == port.Value;

    private static bool HasConfigMap(Manifests manifests, string name, string? key = null) =>
        manifests.ConfigMaps.Any(map => map.Metadata.Name == name && (key is null || map.Data?.ContainsKey(key) == true));

    private static bool HasSecret(Manifests manifests, string name, string? key = null) =>
        manifests.Secrets.Any(secret => secret.Metadata.Name == name
            && (key is null || secret.Data?.ContainsKey(key) == true || secret.StringData?.ContainsKey(key) == true));

    [GeneratedRegex("^services__(?<service>[^_]+)__(?<endpoint>[^_]+)__[0-9]+$")]
    private static partial Regex ServiceVariable();

    [GeneratedRegex("^ConnectionStrings__(?<resource>.+)$")]
    private static partial Regex ConnectionStringVariable();
}
