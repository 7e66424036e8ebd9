namespace GrpoAspire.AppHost.Tests;

public sealed class RunSummaryTests : IDisposable
{
    private readonly string _run = Directory.CreateTempSubdirectory("grpo-summary-").FullName;

    public void Dispose() => Directory.Delete(_run, recursive: true);

    [Fact]
    public void PrintsBeforeAndAfterFromTheRunFoldersEvaluations()
    {
        File.WriteAllLines(Path.Combine(_run, "eval.jsonl"),
        [
            """{"step":0,"tasks":500,"greedy_success_rate":0.13,"greedy_format_rate":1,"sampled_success_rate":0.106,"sampled_format_rate":0.998,"samples":1,"temperature":1,"seconds":30}""",
            """{"step":30,"tasks":500,"greedy_success_rate":0.2,""", // cut by a killed process
            """{"step":60,"tasks":500,"greedy_success_rate":0.302,"greedy_format_rate":1,"sampled_success_rate":0.27,"sampled_format_rate":0.994,"samples":1,"temperature":1,"seconds":31}""",
        ]);
        Directory.CreateDirectory(Path.Combine(_run, "checkpoint-60"));
        File.WriteAllText(Path.Combine(_run, "curves.png"), "png");
        var console = new StringWriter();

        RunSummary.Write(console, _run, "finished", TimeSpan.FromMinutes(24.2));

        var text = console.ToString();
        Assert.Contains("held-out success (500 tasks, sampled at T=1): 10.6 % at step 0, 27.0 % after step 60 (+16.4 points); greedy 13.0 % -> 30.2 %; format 99.4 %", text, StringComparison.Ordinal);
        Assert.Contains($"training finished after 24.2 min; run folder: {_run}", text, StringComparison.Ordinal);
        Assert.Contains("checkpoint-60", text, StringComparison.Ordinal);
        Assert.Contains("curves.png", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTrainedModelIsTheCheckpointOfTheLastStepNotTheLastByName()
    {
        foreach (var step in new[] { 5, 40, 10 })
        {
            Directory.CreateDirectory(Path.Combine(_run, $"checkpoint-{step}"));
        }

        Directory.CreateDirectory(Path.Combine(_run, "checkpoint-45.partial"));
        var console = new StringWriter();
        RunSummary.Write(console, _run, "finished", TimeSpan.FromMinutes(1));
        var line = Assert.Single(console.ToString().Split('\n'), l => l.Contains("the trained model", StringComparison.Ordinal));
        Assert.Contains("checkpoint-40 ", line, StringComparison.Ordinal);
        Assert.Contains("(3 checkpoint folder(s) in all)", line, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutEvaluationsItStillSaysWhereTheRunFolderIs()
    {
        var console = new StringWriter();
        RunSummary.Write(console, _run, "failed", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain("held-out", console.ToString(), StringComparison.Ordinal);
        Assert.Contains("training failed after 0.5 min", console.ToString(), StringComparison.Ordinal);
    }
}
