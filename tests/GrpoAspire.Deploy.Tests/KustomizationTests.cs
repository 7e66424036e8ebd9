using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;

namespace GrpoAspire.Deploy.Tests;

/// <summary>The base and both overlays render, load strictly, and hold what the run needs.</summary>
public sealed class KustomizationTests
{
    public static TheoryData<string> Kustomizations => new() { "base", "overlays/cpu", "overlays/gpu" };

    [KubectlFact]
    public void TheBaseRendersEveryResourceOfTheRun()
    {
        var manifests = Manifests.Render("base");

        Assert.Equal(
            [ResourceNames.Generation, ResourceNames.Redis, ResourceNames.Reward, ResourceNames.Trainer],
            manifests.Deployments.Select(deployment => deployment.Metadata.Name).Order());
        Assert.Equal(
            [ResourceNames.Generation, ResourceNames.Redis, ResourceNames.Reward, ResourceNames.Trainer],
            manifests.Services.Select(service => service.Metadata.Name).Order());
        Assert.Equal(["grpo-models", "trainer-runs"], manifests.Claims.Select(claim => claim.Metadata.Name).Order());
        Assert.Equal(
            ["grpo-env", "grpo-run", "reward-endpoints", "trainer-endpoints", "trainer-recipe"],
            manifests.ConfigMaps.Select(map => Unhashed(map.Metadata.Name)).Order());
        Assert.Equal(["grpo-token", "redis-connection", "redis-password"], manifests.Secrets.Select(secret => Unhashed(secret.Metadata.Name)).Order());
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void EveryObjectAndPodTemplateIsLabelledPartOfGrpoAspire(string kustomization)
    {
        var manifests = Manifests.Render(kustomization);

        Assert.All(manifests.Objects.Cast<IMetadata<V1ObjectMeta>>(), item =>
            Assert.Equal("grpo-aspire", item.Metadata.Labels?["app.kubernetes.io/part-of"]));
        Assert.All(manifests.Deployments, deployment =>
            Assert.Equal("grpo-aspire", deployment.Spec.Template.Metadata.Labels["app.kubernetes.io/part-of"]));
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void ObjectsAreNamespaceAgnostic(string kustomization) =>
        Assert.All(Manifests.Render(kustomization).Objects.Cast<IMetadata<V1ObjectMeta>>(), item =>
            Assert.Null(item.Metadata.NamespaceProperty));

    [Fact]
    public void StrictLoadingRejectsAFieldTheKubernetesApiDoesNotKnow()
    {
        const string yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: reward
            spec:
              selektor:
                app.kubernetes.io/name: reward
            """;

        Assert.Single(KubernetesYaml.LoadAllFromString(yaml, strict: false));
        Assert.ThrowsAny<Exception>(() => Manifests.Parse(yaml));
    }

    /// <summary>A generated ConfigMap's or Secret's name without kustomize's content hash.</summary>
    private static string Unhashed(string name) => name[..name.LastIndexOf('-')];
}
