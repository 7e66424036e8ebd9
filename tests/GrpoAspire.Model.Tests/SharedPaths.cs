namespace GrpoAspire.Model.Tests;

/// <summary>Locates the repository and the ../shared folder beside it.</summary>
internal static class SharedPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string HfQwen2 => Path.Combine(Shared, "fixtures", "hf-qwen2");

    private static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName
            ?? throw new InvalidOperationException($"no GrpoAspire.sln above {AppContext.BaseDirectory}");
    }
}
