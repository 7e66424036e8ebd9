namespace GrpoAspire.AppHost.Tests;

public sealed class AppHostArgumentsTests
{
    [Fact]
    public void TheIssuesCommandLineParses()
    {
        var parsed = AppHostArguments.Parse(["--recipe", "recipes/smoke-cpu.yaml", "--max-steps", "2", "--exit-when-done"]);
        Assert.Equal("recipes/smoke-cpu.yaml", parsed.Recipe);
        Assert.Equal(2, parsed.MaxSteps);
        Assert.True(parsed.ExitWhenDone);
        Assert.Equal(1, parsed.Replicas);
    }

    [Fact]
    public void NoArgumentsRunTheEmbeddedDefaultAndExitWhenDone()
    {
        var parsed = AppHostArguments.Parse([]);
        Assert.Equal("recipes/countdown-tiny-cpu.yaml", parsed.Recipe);
        Assert.True(parsed.ExitWhenDone);
        Assert.False(AppHostArguments.Parse(["--keep-running"]).ExitWhenDone);
    }

    [Fact]
    public void AspiresPublisherOptionsPassThroughToItsBuilder()
    {
        var parsed = AppHostArguments.Parse(["--publisher", "manifest", "--output-path", "out/aspire-manifest.json", "--run", "r1"]);
        Assert.Equal(["--publisher", "manifest", "--output-path", "out/aspire-manifest.json"], parsed.AspireArguments);
        Assert.Equal("r1", parsed.Run);
    }

    [Theory]
    [InlineData(new[] { "--max-steps", "0" }, "--max-steps must be an integer from 1")]
    [InlineData(new[] { "--replicas", "x" }, "--replicas must be an integer")]
    [InlineData(new[] { "--recipe" }, "--recipe needs a value")]
    [InlineData(new[] { "--steps", "2" }, "unknown option '--steps'")]
    [InlineData(new[] { "--dashboard-port", "0" }, "unknown option '--dashboard-port'")]
    [InlineData(new[] { "--reward-url", "127.0.0.1:7001" }, "--reward-url must be an http or https address")]
    [InlineData(new[] { "--reward-url", "http://127.0.0.1:7001/grpc" }, "without a path")]
    [InlineData(new[] { "--reward-url", "http://127.0.0.1:7001", "--reward-project", "x.csproj" }, "give one")]
    public void BadArgumentsNameTheOption(string[] args, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => AppHostArguments.Parse(args)).Message, StringComparison.Ordinal);
}
