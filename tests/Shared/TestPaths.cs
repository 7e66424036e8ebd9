namespace GrpoAspire.Testing;

/// <summary>Where the repository and the built programs are, for tests that run them as processes.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SmokeRecipe => Path.Combine(RepoRoot, "recipes", "smoke-cpu.yaml");

    /// <summary>Release or Debug: the configuration of this test build.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>{folder}/{project}/bin/{Configuration}/net10.0/{project}.dll, built with the solution.</summary>
    public static string ProgramDll(string folder, string project)
    {
        var dll = Path.Combine(RepoRoot, folder, project, "bin", Configuration, "net10.0", project + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is missing: build the solution first", dll);
    }

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
