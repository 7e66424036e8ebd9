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
        Assert.True(parsed.Dashboard);
        Assert.False(AppHostArguments.Parse(["--keep-running"]).ExitWhenDone);
    }

    [Theory]
    [InlineData(new[] { "--max-steps", "0" }, "--max-steps must be an integer from 1")]
    [InlineData(new[] { "--replicas", "x" }, "--replicas must be an integer")]
    [InlineData(new[] { "--recipe" }, "--recipe needs a value")]
    [InlineData(new[] { "--steps", "2" }, "unknown option '--steps'")]
    public void BadArgumentsNameTheOption(string[] args, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => AppHostArguments.Parse(args)).Message, StringComparison.Ordinal);
}
