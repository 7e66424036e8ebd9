namespace GrpoAspire.Cli.Tests;

public class CliAppTests
{
    private static readonly long[] Nums = [14, 70, 80];

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task GeneralHelpListsTheCommandsOnStdout(string flag)
    {
        var result = await CliRun.RunAsync("", flag);

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("Usage: grpo <command>", result.Out);
        Assert.Contains("score", result.Out);
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task ScoreHelpDocumentsTheOptionsAndExitCodes()
    {
        var result = await CliRun.RunAsync("", "score", "--help");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("--input FILE", result.Out);
        Assert.Contains("--max-completion-bytes N", result.Out);
        Assert.Contains("equation_tinyzero", result.Out);
        Assert.Contains("1  some lines were errors", result.Out);
    }

    [Fact]
    public async Task NoCommandIsAUsageError()
    {
        var result = await CliRun.RunAsync("");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("no command given", result.Error);
    }

    [Fact]
    public async Task AnUnknownCommandIsAUsageErrorWithTheCommandList()
    {
        var result = await CliRun.RunAsync("", "scroe");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("unknown command 'scroe'", result.Error);
        Assert.Contains("Usage: grpo <command>", result.Error);
        Assert.Empty(result.Out);
    }

    [Fact]
    public async Task AnUnknownFlagIsAUsageErrorWithTheVerbsUsage()
    {
        var result = await CliRun.ScoreAsync("", "--bogus", "1");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("grpo score: unknown option '--bogus'", result.Error);
        Assert.Contains("Usage: grpo score --input FILE", result.Error);
        Assert.Empty(result.Out);
    }

    [Theory]
    [InlineData(new[] { "score" }, "--input FILE is required")]
    [InlineData(new[] { "score", "--input" }, "--input needs a value")]
    [InlineData(new[] { "score", "--input", "-", "--input", "-" }, "--input is given more than once")]
    [InlineData(new[] { "score", "--input", "-", "stray" }, "unexpected argument 'stray'")]
    [InlineData(new[] { "score", "--input", "-", "--max-completion-bytes", "0" }, "must be an integer from 1 to")]
    [InlineData(new[] { "score", "--input", "-", "--reward", "format=1,bogus=2" }, "unknown reward function 'bogus'; valid: format, equation, equation_tinyzero")]
    [InlineData(new[] { "score", "--input", "-", "--reward", "format=heavy" }, "the weight of 'format' must be a finite number")]
    [InlineData(new[] { "score", "--input", "-", "--reward", "format=Infinity" }, "the weight of 'format' must be a finite number")]
    [InlineData(new[] { "score", "--input", "-", "--reward", "format,format=2" }, "names 'format' more than once")]
    [InlineData(new[] { "score", "--input", "-", "--reward", "format,,equation" }, "empty entry")]
    public async Task BadArgumentsAreUsageErrors(string[] args, string expectedMessage)
    {
        var result = await CliRun.RunAsync("", args);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(expectedMessage, result.Error);
        Assert.Empty(result.Out);
    }

    [Fact]
    public async Task RewardOptionChoosesTheFunctionsTheirWeightsAndTheOutputKeys()
    {
        // Well-formed but wrong: TinyZero gives its 0.1 format score.
        var input = CliRun.Line(CliRun.Completion("80 + 70 - 14"), Nums, 85);

        var result = await CliRun.ScoreAsync(input, "--reward", "format=0.5, equation_tinyzero=2");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal(
            """{"line":1,"format":1.0,"equation_tinyzero":0.1,"total":0.7,"equation_verdict":"wrong_value"}""",
            Assert.Single(result.OutLines));
    }

    [Fact]
    public async Task ARewardNameWithoutAWeightHasWeightOne()
    {
        var input = CliRun.Line(CliRun.Completion("80 + (70 / 14)"), Nums, 85);

        var result = await CliRun.ScoreAsync(input, "--reward=equation");

        Assert.Equal(
            """{"line":1,"equation":1.0,"total":1.0,"equation_verdict":"correct"}""",
            Assert.Single(result.OutLines));
    }
}
