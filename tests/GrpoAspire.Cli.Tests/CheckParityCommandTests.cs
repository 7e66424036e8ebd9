namespace GrpoAspire.Cli.Tests;

/// <summary><c>grpo check-parity</c> on the shared transformers fixtures.</summary>
public sealed class CheckParityCommandTests
{
    private static string Fixture(string name)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        return Path.GetFullPath(Path.Combine(directory!.FullName, "..", "shared", "fixtures", "hf-qwen2", name));
    }

    [Theory]
    [InlineData("qwen2-tiny-tied")]
    [InlineData("qwen2-tiny-untied")]
    public async Task BothFixturesPassWithIdenticalGreedyIds(string fixture)
    {
        var result = await CliRun.RunAsync(string.Empty, "check-parity", "--model", Fixture(fixture), "--expected", Path.Combine(Fixture(fixture), "expected.safetensors"));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("greedy ids                    identical", result.Out, StringComparison.Ordinal);
        Assert.Contains("parity: PASS", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherModelsReferenceFailsWithExitCodeOne()
    {
        var result = await CliRun.RunAsync(string.Empty, "check-parity", "--model", Fixture("qwen2-tiny-tied"), "--expected", Path.Combine(Fixture("qwen2-tiny-untied"), "expected.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("parity: FAIL", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingModelFolderIsAUsageError()
    {
        var result = await CliRun.RunAsync(string.Empty, "check-parity", "--model", "/nonexistent", "--expected", "/nonexistent/expected.safetensors");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("config.json", result.Error, StringComparison.Ordinal);
    }
}
