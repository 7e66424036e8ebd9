namespace GrpoAspire.AppHost.Tests;

internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SmokeRecipe => Path.Combine(RepoRoot, "recipes", "smoke-cpu.yaml");

    private static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"no GrpoAspire.sln above {AppContext.BaseDirectory}");
    }
}
