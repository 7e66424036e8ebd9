using System.Text.Json;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Cli.Tests;

/// <summary><c>grpo sft</c>: argument errors (exit 2) and a few steps of a tiny model end to end.</summary>
public sealed class SftCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-sft-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("--output DIR is required")]
    [InlineData("--steps must be an integer from 1 to 100000000, got '0'", "--steps", "0")]
    [InlineData("--batch-size must be an integer from 1 to 65536, got '-4'", "--batch-size", "-4")]
    [InlineData("--seq-len must be an integer from 16 to 131072, got '8'", "--seq-len", "8")]
    [InlineData("--lr must be a number in (0, 1], got 'fast'", "--lr", "fast")]
    [InlineData("--lr must be a number in (0, 1], got '0'", "--lr", "0")]
    [InlineData("--imperfect-fraction must be a number in [0, 1], got '1.5'", "--imperfect-fraction", "1.5")]
    [InlineData("--dtype must be float32 or bfloat16, got 'float16'", "--dtype", "float16")]
    [InlineData("--trace-style must be trials, stepwise or chain, got 'bfs'", "--trace-style", "bfs")]
    [InlineData("unknown device 'tpu'; valid: cpu, cuda, cuda:N", "--device", "tpu")]
    [InlineData("unknown random model 'huge'; valid: random:tiny, random:small, random:countdown-tiny", "--config", "huge")]
    [InlineData("unknown prompt template 'r1'; valid: compact, nearest-compact, seed-r1, tinyzero-base, or a .json template file", "--template", "r1")]
    [InlineData("is not a Hugging Face model folder (no config.json)", "--init", "/nonexistent/model")]
    public async Task BadArgumentsExitWithUsageAndSayWhatIsWrong(string message, params string[] extra)
    {
        string[] args = message.StartsWith("--output", StringComparison.Ordinal)
            ? ["sft", .. extra]
            : ["sft", "--output", Path.Combine(_folder, "never"), .. extra];
        var result = await CliRun.RunAsync(string.Empty, args);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Contains("Usage: grpo sft --output DIR", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder, "never")), "a rejected run must not create its folder");
    }

    [Fact]
    public async Task HelpListsTheOptionsAndTheGeneralHelpTheVerb()
    {
        var help = await CliRun.RunAsync(string.Empty, "sft", "--help");
        Assert.Equal(ExitCodes.Success, help.ExitCode);
        foreach (var option in new[] { "--tasks N", "--steps N", "--batch-size N", "--seq-len N", "--lr X", "--device DEVICE", "--dtype TYPE", "--seed N", "--eval-every N", "--eval-tasks N", "--init DIR", "--trace-style S" })
        {
            Assert.Contains(option, help.Out, StringComparison.Ordinal);
        }

        Assert.Contains("sft", (await CliRun.RunAsync(string.Empty, "--help")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFewStepsOfATinyModelWriteMetricsCheckpointsAndALoadableFolderThatSftCanStartFrom()
    {
        var run = Path.Combine(_folder, "run");
        var result = await CliRun.RunAsync(
            string.Empty, "sft", "--output", run, "--config", "tiny", "--steps", "6", "--batch-size", "4", "--tasks", "50",
            "--eval-tasks", "2", "--eval-samples", "1", "--log-every", "3", "--save-every", "3", "--seed", "5");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("step 3/6 | loss", result.Error, StringComparison.Ordinal);
        Assert.Contains("tokens/s | ETA", result.Error, StringComparison.Ordinal);
        Assert.Contains("held-out (2 tasks): greedy success", result.Error, StringComparison.Ordinal);
        Assert.StartsWith($"saved {run}: ", result.Out, StringComparison.Ordinal);

        var metrics = File.ReadAllLines(Path.Combine(run, "sft_metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([3, 6], metrics.Select(m => m.GetProperty("step").GetInt32()));
        Assert.InRange(metrics[1].GetProperty("eval/greedy_success_rate").GetDouble(), 0, 1);
        Assert.InRange(metrics[1].GetProperty("eval/sampled_success_rate").GetDouble(), 0, 1);
        Assert.True(metrics[1].GetProperty("tokens_per_second").GetDouble() > 0);

        foreach (var folder in new[] { run, Path.Combine(run, "checkpoint-3") })
        {
            using var model = Qwen2Checkpoint.Load(folder);
            Assert.Equal(258, QwenTokenizer.FromDirectory(folder).EosTokenId);
        }

        var next = Path.Combine(_folder, "continued");
        var continued = await CliRun.RunAsync(
            string.Empty, "sft", "--output", next, "--init", run, "--steps", "2", "--batch-size", "2", "--tasks", "20", "--eval-tasks", "0", "--dtype", "bf16",
            "--trace-style", "chain", "--imperfect-fraction", "0.6", "--give-up-early");
        Assert.True(continued.ExitCode == 0, continued.Error);
        var traces = JsonDocument.Parse(File.ReadAllText(Path.Combine(next, "sft_options.json"))).RootElement.GetProperty("Traces");
        Assert.Equal(("Chain", 0.6, true), (traces.GetProperty("Style").GetString(), traces.GetProperty("ImperfectFraction").GetDouble(), traces.GetProperty("GiveUpEarly").GetBoolean()));
        Assert.Equal("bfloat16", JsonDocument.Parse(File.ReadAllText(Path.Combine(next, "config.json"))).RootElement.GetProperty("torch_dtype").GetString());
        Assert.True(File.Exists(Path.Combine(next, "tokenizer.json")));
    }
}
