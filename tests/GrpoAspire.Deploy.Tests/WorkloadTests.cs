using System.Text.RegularExpressions;
using k8s.Models;
using Microsoft.Extensions.Hosting;

namespace GrpoAspire.Deploy.Tests;

/// <summary>What each workload of an overlay gets: the environment contract, volumes, images, security, GPUs.</summary>
public sealed partial class WorkloadTests
{
    private const string Gpu = "nvidia.com/gpu";

    private static readonly string[] GrpoServices = [ResourceNames.Reward, ResourceNames.Generation, ResourceNames.Trainer];

    public static TheoryData<string> Overlays => WiringTests.Overlays;

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EveryGrpoServiceListensOnItsTwoPortsUnderItsOwnName(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);

        Assert.All(GrpoServices, name =>
        {
            var container = manifests.Container(name);
            var environment = manifests.EnvironmentOf(container);
            Assert.Equal(name, environment.GetValueOrDefault("OTEL_SERVICE_NAME"));
            Assert.Equal("http://+:8080", environment.GetValueOrDefault("Kestrel__Endpoints__Grpc__Url"));
            Assert.Equal("http://+:8081", environment.GetValueOrDefault("Kestrel__Endpoints__Http__Url"));
            Assert.Equal([8080, 8081], container.Ports.OrderBy(port => port.Name).Select(port => port.ContainerPort));
            Assert.Equal(["grpc", "http"], container.Ports.OrderBy(port => port.Name).Select(port => port.Name));
        });
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EachGrpoServiceGetsTheAddressesOfWhatItCallsAndTheTokenWhereItHasProtectedCalls(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var generation = manifests.EnvironmentOf(manifests.Container(ResourceNames.Generation));
        var trainer = manifests.EnvironmentOf(manifests.Container(ResourceNames.Trainer));
        var reward = manifests.EnvironmentOf(manifests.Container(ResourceNames.Reward));

        Assert.StartsWith("redis:6379,password=", generation.GetValueOrDefault("ConnectionStrings__redis"), StringComparison.Ordinal);
        Assert.Equal("http://reward:8080", generation.GetValueOrDefault("services__reward__grpc__0"));
        Assert.Equal("http://trainer:8080", generation.GetValueOrDefault("services__trainer__grpc__0"));
        Assert.Equal(generation.GetValueOrDefault("ConnectionStrings__redis"), trainer.GetValueOrDefault("ConnectionStrings__redis"));
        Assert.DoesNotContain(trainer.Keys, name => name.StartsWith("services__", StringComparison.Ordinal));
        Assert.DoesNotContain(reward.Keys, name => name.StartsWith("services__", StringComparison.Ordinal) || name.StartsWith("ConnectionStrings__", StringComparison.Ordinal));
        Assert.All(new[] { ResourceNames.Generation, ResourceNames.Trainer }, name =>
        {
            var token = Assert.Single(manifests.Container(name).Env, variable => variable.Name == "Security__Token");
            Assert.Equal("token", token.ValueFrom?.SecretKeyRef?.Key);
        });
        Assert.DoesNotContain("Security__Token", reward.Keys);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void GenerationReplicasAreNamedAfterTheirPodsAndServeTheTrainersRun(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var generation = manifests.Container(ResourceNames.Generation);
        var environment = manifests.EnvironmentOf(generation);
        var trainer = manifests.EnvironmentOf(manifests.Container(ResourceNames.Trainer));

        Assert.Equal("metadata.name", generation.Env.Single(variable => variable.Name == "Generation__Replica").ValueFrom?.FieldRef?.FieldPath);
        Assert.Matches("^[A-Za-z0-9_.-]{1,64}$", environment["Generation__Run"]);
        Assert.Equal(trainer["Trainer__Run"], environment["Generation__Run"]);
        Assert.NotNull(manifests.VolumeHolding(ResourceNames.Generation, environment["Generation__ModelPath"]!)?.PersistentVolumeClaim);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void TheTrainerReadsItsRecipeFromAConfigMapAndWritesItsRunFolderToAPersistentVolume(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var environment = manifests.EnvironmentOf(manifests.Container(ResourceNames.Trainer));

        Assert.Equal("/recipes/recipe.yaml", environment["Trainer__Recipe"]);
        var recipes = manifests.VolumeHolding(ResourceNames.Trainer, "/recipes/recipe.yaml")?.ConfigMap;
        Assert.NotNull(recipes);
        Assert.Contains("recipe.yaml", manifests.ConfigMaps.Single(map => map.Metadata.Name == recipes.Name).Data.Keys);

        Assert.Equal("/runs/$(Trainer__Run)", environment["Trainer__Output"]);
        var output = $"/runs/{environment["Trainer__Run"]}";
        Assert.Equal("trainer-runs", manifests.VolumeHolding(ResourceNames.Trainer, output)?.PersistentVolumeClaim?.ClaimName);
        Assert.NotNull(manifests.VolumeHolding(ResourceNames.Trainer, environment["Trainer__Model"]!)?.PersistentVolumeClaim);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void TheTrainerIsOneReplicaRecreatedNeverTwoAtOnce(string overlay)
    {
        var trainer = Manifests.Overlay(overlay).Deployment(ResourceNames.Trainer);

        Assert.Equal(1, trainer.Spec.Replicas);
        Assert.Equal("Recreate", trainer.Spec.Strategy?.Type);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EveryDependentVariableIsDefinedBeforeItIsUsed(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);

        Assert.All(manifests.Deployments.SelectMany(deployment => deployment.Spec.Template.Spec.Containers), container =>
        {
            // Kubernetes expands $(NAME) only from envFrom and the env entries above it; otherwise it stays literal.
            var defined = manifests.EnvironmentOf(new V1Container { EnvFrom = container.EnvFrom }).Keys.ToHashSet();
            foreach (var variable in container.Env ?? [])
            {
                foreach (Match reference in DependentVariable().Matches(variable.Value ?? string.Empty))
                {
                    Assert.Contains(reference.Groups["name"].Value, defined);
                }

                defined.Add(variable.Name);
            }
        });
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void TheImagesAreTheThreeGrpoAspireImagesAndRedisEachWithATag(string overlay)
    {
        var images = Manifests.Overlay(overlay).Deployments
            .SelectMany(deployment => deployment.Spec.Template.Spec.Containers)
            .Select(container => container.Image)
            .ToList();

        Assert.Equal(
            ["grpo-aspire/generation", "grpo-aspire/reward", "grpo-aspire/trainer", "redis"],
            images.Select(image => image.Split(':')[0]).Order());
        Assert.All(images, image => Assert.Matches("^[^:]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$", image));
        Assert.DoesNotContain(images, image => image.EndsWith(":latest", StringComparison.Ordinal));
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public void EveryContainerRunsAsNonRootWithoutPrivilegeEscalationOnAReadOnlyRoot(string overlay)
    {
        Assert.All(Manifests.Overlay(overlay).Deployments, deployment =>
        {
            var pod = deployment.Spec.Template.Spec;
            Assert.All(pod.Containers, container =>
            {
                Assert.True((container.SecurityContext?.RunAsNonRoot ?? pod.SecurityContext?.RunAsNonRoot) == true, $"{container.Name} runAsNonRoot");
                Assert.False(container.SecurityContext?.AllowPrivilegeEscalation ?? true, $"{container.Name} allowPrivilegeEscalation");
                Assert.True(container.SecurityContext?.ReadOnlyRootFilesystem == true, $"{container.Name} readOnlyRootFilesystem");
                Assert.Contains("ALL", container.SecurityContext?.Capabilities?.Drop ?? []);
                Assert.NotNull(container.Resources?.Requests);
                Assert.NotNull(container.Resources?.Limits.ValueOrNull("memory"));
            });
        });
    }

    [KubectlFact]
    public void TheGpuOverlayGivesGenerationAndTrainerOneGpuEachOnCudaInBfloat16()
    {
        var manifests = Manifests.Overlay("gpu");

        Assert.All(manifests.Deployments, deployment =>
        {
            var container = deployment.Spec.Template.Spec.Containers.Single();
            var gpu = container.Resources?.Limits.ValueOrNull(Gpu);
            if (deployment.Metadata.Name is ResourceNames.Generation or ResourceNames.Trainer)
            {
                Assert.Equal("1", gpu?.ToString());
                Assert.Contains(deployment.Spec.Template.Spec.Tolerations ?? [], toleration => toleration.Key == Gpu);
            }
            else
            {
                Assert.Null(gpu);
            }
        });

        var generation = manifests.EnvironmentOf(manifests.Container(ResourceNames.Generation));
        Assert.Equal("cuda", generation.GetValueOrDefault("Generation__Device"));
        Assert.Equal("bfloat16", generation.GetValueOrDefault("Generation__Dtype"));
        Assert.Equal("cuda", manifests.EnvironmentOf(manifests.Container(ResourceNames.Trainer)).GetValueOrDefault("Trainer__Device"));
    }

    [KubectlFact]
    public void TheCpuOverlayRequestsNoGpuAndRunsOneGenerationReplica()
    {
        var manifests = Manifests.Overlay("cpu");

        Assert.All(manifests.Deployments.SelectMany(deployment => deployment.Spec.Template.Spec.Containers), container =>
        {
            Assert.False(container.Resources?.Limits?.ContainsKey(Gpu) == true, $"{container.Name} limits {Gpu}");
            Assert.False(container.Resources?.Requests?.ContainsKey(Gpu) == true, $"{container.Name} requests {Gpu}");
            Assert.DoesNotContain("cuda", manifests.EnvironmentOf(container).Values);
        });
        Assert.Equal(1, manifests.Deployment(ResourceNames.Generation).Spec.Replicas);
    }

    [GeneratedRegex(@"\$\((?<name>[A-Za-z_][A-Za-z0-9_.-]*)\)")]
    private static partial Regex DependentVariable();
}
