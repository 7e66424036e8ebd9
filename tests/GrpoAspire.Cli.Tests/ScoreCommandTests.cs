using System.Text;
using GrpoAspire.Cli.Commands;
using GrpoAspire.Cli.Scoring;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Cli.Tests;

public class ScoreCommandTests
{
    private static readonly long[] Nums = [14, 70, 80];

    [Fact]
    public async Task ACorrectAnswerScoresOneForFormatAndEquation()
    {
        var result = await CliRun.ScoreAsync(CliRun.Line(CliRun.Completion("80 + (70 / 14)"), Nums, 85, "a") + "\n");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal(
            """{"line":1,"id":"a","format":1.0,"equation":1.0,"total":2.0,"equation_verdict":"correct"}""",
            Assert.Single(result.OutLines));
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task ResultsComeInInputOrderAndMatchTheScorer()
    {
        var equations = new[] { "80 + (70 / 14)", "80 + 70 - 14", "80 ** 70 / 14", "80 + 14", "(80 - 70) * 14", "80 / (70 - 70)" };
        var lines = Enumerable.Range(0, 1500)
            .Select(i => (Id: i, Completion: CliRun.Completion(equations[i % equations.Length]), Target: 85L + (i % 7)))
            .ToArray();
        var input = string.Join("\n", lines.Select(l => CliRun.Line(l.Completion, Nums, l.Target, l.Id)));

        var result = await CliRun.ScoreAsync(input);

        var scorer = new CountdownScorer();
        var results = result.Results;
        Assert.Equal(lines.Length, results.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var expected = scorer.Score(lines[i].Completion, new CountdownTask(Nums, lines[i].Target));
            Assert.Equal(i + 1, results[i].GetProperty("line").GetInt64());
            Assert.Equal(lines[i].Id, results[i].GetProperty("id").GetInt32());
            Assert.Equal(expected.ValueOf(RewardFunction.Equation), results[i].GetProperty("equation").GetDouble());
            Assert.Equal(expected.Total, results[i].GetProperty("total").GetDouble());
            Assert.Equal(expected.EquationVerdict.ToWireName(), results[i].GetProperty("equation_verdict").GetString());
        }
    }

    [Fact]
    public async Task AMalformedLineBecomesAnErrorLineAndTheOthersAreStillScored()
    {
        var good = CliRun.Line(CliRun.Completion("80 + (70 / 14)"), Nums, 85);
        var result = await CliRun.ScoreAsync($"{good}\n{{\"completion\": oops}}\n{good}\n");

        Assert.Equal(ExitCodes.PartialFailure, result.ExitCode);
        var results = result.Results;
        Assert.Equal(3, results.Length);
        Assert.Equal(2.0, results[0].GetProperty("total").GetDouble());
        Assert.Equal(2, results[1].GetProperty("line").GetInt32());
        Assert.StartsWith("invalid JSON", results[1].GetProperty("error").GetString());
        Assert.False(results[1].TryGetProperty("total", out _));
        Assert.Equal(2.0, results[2].GetProperty("total").GetDouble());
        Assert.Contains("1 of 3 lines could not be scored", result.Error);
    }

    [Theory]
    [InlineData("""{"completion": "x", "target": 3}""", "missing \"nums\"")]
    [InlineData("""{"nums": [1, 2]}""", "missing \"completion\", \"target\"")]
    [InlineData("""{"completion": "x", "nums": [1, 2, 3, 4, 5, 6, 7], "target": 3}""", "more than 6 numbers")]
    [InlineData("""{"completion": "x", "nums": [1, -2], "target": 3}""", "non-negative integers, got -2")]
    [InlineData("""{"completion": "x", "nums": [1, 2.5], "target": 3}""", "\"nums\" must hold integers (64-bit), got 2.5")]
    [InlineData("""{"completion": "x", "nums": [], "target": 3}""", "\"nums\" is empty")]
    [InlineData("""{"completion": "x", "nums": [1], "target": "3"}""", "\"target\" must be an integer, got a string")]
    [InlineData("""{"completion": 5, "nums": [1], "target": 3}""", "\"completion\" must be a string, got a number")]
    [InlineData("""{"completion": "x", "completion": "y", "nums": [1], "target": 1}""", "\"completion\" appears more than once")]
    [InlineData("""[1, 2, 3]""", "a line must be a JSON object")]
    [InlineData("""{"completion": "x", "nums": [1], "target": 1} extra""", "invalid JSON at byte")]
    [InlineData("""{"completion": "x", "nums": [1], "target": 1""", "invalid JSON")]
    public async Task ErrorLinesNameTheProblem(string line, string expectedMessage)
    {
        var result = await CliRun.ScoreAsync(line);

        Assert.Equal(ExitCodes.PartialFailure, result.ExitCode);
        var error = Assert.Single(result.Results).GetProperty("error").GetString();
        Assert.Contains(expectedMessage, error);
    }

    [Fact]
    public async Task ACompletionOverTheByteLimitIsAnErrorLine()
    {
        // "é" is two UTF-8 bytes: 6 of them are 12 bytes, over a limit of 10.
        var input = CliRun.Line("éééééé", Nums, 85) + "\n" + CliRun.Line("ééééé", Nums, 85);

        var result = await CliRun.ScoreAsync(input, "--max-completion-bytes", "10");

        Assert.Equal(ExitCodes.PartialFailure, result.ExitCode);
        Assert.Contains("12 bytes of UTF-8, over the limit of 10", result.Results[0].GetProperty("error").GetString());
        Assert.Equal(0.0, result.Results[1].GetProperty("total").GetDouble());
    }

    [Fact]
    public async Task ALineTooLongToReadIsSkippedAndTheNextLineIsScored()
    {
        // A 1-byte completion limit allows lines of 6 + 64 KiB characters.
        var huge = CliRun.Line(new string('a', 100_000), Nums, 85);
        var good = CliRun.Line("x", Nums, 85);

        var result = await CliRun.ScoreAsync($"{huge}\n{good}\n", "--max-completion-bytes", "1");

        Assert.Equal(ExitCodes.PartialFailure, result.ExitCode);
        Assert.Contains($"the line is {huge.Length} bytes long", result.Results[0].GetProperty("error").GetString());
        Assert.Equal(2, result.Results[1].GetProperty("line").GetInt32());
        Assert.Equal("no_answer", result.Results[1].GetProperty("equation_verdict").GetString());
    }

    [Fact]
    public async Task BlankLinesAreSkippedButCountInLineNumbers()
    {
        var good = CliRun.Line(CliRun.Completion("80 + (70 / 14)"), Nums, 85);

        var result = await CliRun.ScoreAsync($"\n{good}\r\n   \n\r\n{good}");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal([2, 5], result.Results.Select(r => r.GetProperty("line").GetInt32()));
    }

    [Fact]
    public async Task IdsAreEchoedVerbatimAndLeftOutWhenAbsent()
    {
        var completion = CliRun.Completion("80 + (70 / 14)");
        var input = string.Join('\n',
            CliRun.Line(completion, Nums, 85, 12.5),
            CliRun.Line(completion, Nums, 85, "prompt-7/ß"),
            CliRun.Line(completion, Nums, 85, new { group = 3, sample = new[] { 1, 2 } }),
            CliRun.Line(completion, Nums, 85));

        var results = (await CliRun.ScoreAsync(input)).Results;

        Assert.Equal(12.5, results[0].GetProperty("id").GetDouble());
        Assert.Equal("prompt-7/ß", results[1].GetProperty("id").GetString());
        Assert.Equal("""{"group":3,"sample":[1,2]}""", results[2].GetProperty("id").GetRawText());
        Assert.False(results[3].TryGetProperty("id", out _));
    }

    [Fact]
    public async Task InputAndOutputFilesAreUsedWhenGiven()
    {
        var directory = Directory.CreateTempSubdirectory("grpo-score-");
        try
        {
            var inputPath = Path.Combine(directory.FullName, "in.jsonl");
            var outputPath = Path.Combine(directory.FullName, "out.jsonl");
            await File.WriteAllTextAsync(inputPath, CliRun.Line(CliRun.Completion("80 + (70 / 14)"), Nums, 85) + "\n");

            var result = await CliRun.RunAsync("", "score", "--input", inputPath, $"--output={outputPath}");

            Assert.Equal(ExitCodes.Success, result.ExitCode);
            Assert.Empty(result.Out);
            Assert.Contains("\"total\":2.0", await File.ReadAllTextAsync(outputPath));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AMissingInputFileIsAUsageError()
    {
        var result = await CliRun.RunAsync("", "score", "--input", "/nonexistent/completions.jsonl");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("completions.jsonl", result.Error);
        Assert.Empty(result.Out);
    }

    [Fact]
    public async Task ScoreRunnerScoresALongCompletionAndReportsTheSummary()
    {
        // 300k characters: within the 1 MiB default limit.
        var longThink = " " + string.Concat(Enumerable.Repeat("Let me try 80 - 14 = 66. ", 12_000));
        var input = CliRun.Line(longThink + "\n</think>\n<answer>80 + (70 / 14)</answer>", Nums, 85) + "\n\n"
            + CliRun.Line("no answer", Nums, 85) + "\n{}\n";
        using var output = new MemoryStream();

        var summary = await ScoreRunner.RunAsync(new MemoryStream(Encoding.UTF8.GetBytes(input)), output, new ScoreOptions());

        Assert.Equal(new ScoreSummary(Lines: 3, Scored: 2, Errors: 1), summary);
        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("\"total\":2.0", lines[0]);
        Assert.Contains("\"equation_verdict\":\"no_answer\"", lines[1]);
        Assert.Equal("""{"line":4,"error":"missing \"completion\", \"nums\", \"target\""}""", lines[2]);
    }
}
