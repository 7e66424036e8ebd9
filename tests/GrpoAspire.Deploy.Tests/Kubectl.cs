using System.Diagnostics;

namespace GrpoAspire.Deploy.Tests;

/// <summary><c>kubectl kustomize</c> run as a process (kustomize is built into kubectl since v1.14).</summary>
public static class Kubectl
{
    public const string MissingReason = "kubectl is not on PATH; install it to render deploy/k8s (kustomize is built in)";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The kubectl executable found on PATH, or null.</summary>
    public static string? Executable { get; } = FindOnPath(OperatingSystem.IsWindows() ? "kubectl.exe" : "kubectl");

    /// <summary>Renders the kustomization in <paramref name="directory"/>; throws with kubectl's error when it fails.</summary>
    public static string Kustomize(string directory)
    {
        var kubectl = Executable ?? throw new InvalidOperationException(MissingReason);
        return ToolProcess.Run(new ProcessStartInfo(kubectl) { ArgumentList = { "kustomize", directory } }, Timeout, $"kubectl kustomize {directory}");
    }

    private static string? FindOnPath(string fileName) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, fileName))
            .FirstOrDefault(File.Exists);
}

/// <summary>A fact that renders manifests: reported skipped (never passed) where kubectl is not on PATH.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kubectl.Executable is null)
        {
            Skip = Kubectl.MissingReason;
        }
    }
}

/// <summary>A theory that renders manifests: reported skipped (never passed) where kubectl is not on PATH.</summary>
public sealed class KubectlTheoryAttribute : TheoryAttribute
{
    public KubectlTheoryAttribute()
    {
        if (Kubectl.Executable is null)
        {
            Skip = Kubectl.MissingReason;
        }
    }
}
