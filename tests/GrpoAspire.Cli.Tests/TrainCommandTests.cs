using System.Text.Json;

namespace GrpoAspire.Cli.Tests;

/// <summary><c>grpo train</c>: the smoke recipe end to end, dry runs, bad recipes, resume; <c>grpo eval</c> on its checkpoint.</summary>
public sealed partial class TrainCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-train-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    internal static string RepoFile(string relative)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, relative);
    }

    private static readonly string SmokeRecipe = RepoFile("recipes/smoke-cpu.yaml");
    private static readonly string SeedRecipe = RepoFile("recipes/grpo-qwen-2.5-3b-deepseek-r1-countdown.yaml");

    [Fact]
    public async Task TheSmokeRecipeWritesEveryFileOfTheRunFolder()
    {
        var run = Path.Combine(_folder, "smoke");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", SmokeRecipe, "--output", run);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), $"smoke run took {watch.Elapsed}");

        var checkpoint = Path.Combine(run, "checkpoint-2");
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.json", "optimizer.bin", "trainer_state.json" })
        {
            Assert.True(new FileInfo(Path.Combine(checkpoint, file)).Length > 0, $"checkpoint-2/{file} missing or empty");
        }

        var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json"))).RootElement;
        Assert.Equal(2, state.GetProperty("global_step").GetInt32());
        Assert.True(state.GetProperty("dataset_cursor").GetInt64() > 0);

        var metrics = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1, 2], metrics.Select(m => m.GetProperty("step").GetInt32()));
        foreach (var key in new[]
        {
            "reward", "rewards/format", "rewards/equation", "success_rate", "kl", "loss", "learning_rate", "completion_length",
            "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "frac_reward_zero_std", "tokens_per_second", "step_seconds",
        })
        {
            Assert.True(metrics[1].TryGetProperty(key, out _), $"metrics.jsonl lacks {key}");
        }

        var events = Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*");
        Assert.Single(events);
        var eventBytes = File.ReadAllBytes(events[0]);
        Assert.Contains("train/reward", System.Text.Encoding.ASCII.GetString(eventBytes), StringComparison.Ordinal);

        Assert.True(File.Exists(Path.Combine(run, "completion_samples", "completion_samples.txt")));
        Assert.True(File.Exists(Path.Combine(run, "completion_samples", "success_completion_samples.txt")));
        var png = File.ReadAllBytes(Path.Combine(run, "curves.png"));
        Assert.True(png.Length > 10_000, "curves.png is too small to hold six panels");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Equal("random:tiny", JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "recipe.json"))).RootElement.GetProperty("model_name_or_path").GetString());
        Assert.Contains("step 2/2", result.Error, StringComparison.Ordinal);
        Assert.Contains("ETA", result.Error, StringComparison.Ordinal);

        // The checkpoint is a model folder grpo eval reads.
        var eval = await CliRun.RunAsync(string.Empty, "eval", "--model", checkpoint, "--generate", "3", "--samples", "2", "--max-new-tokens", "8");
        Assert.True(eval.ExitCode == 0, eval.Error);
        var report = JsonDocument.Parse(eval.Out).RootElement;
        Assert.Equal(3, report.GetProperty("tasks").GetInt32());
        Assert.Equal(2, report.GetProperty("k").GetInt32());
        Assert.InRange(report.GetProperty("greedy_success_rate").GetDouble(), 0, 1);
        Assert.InRange(report.GetProperty("pass_at_k").GetDouble(), 0, 1);

        // Resume from the newest checkpoint with a longer budget: only step 3 runs, metrics continue.
        var longer = Path.Combine(_folder, "smoke-3.yaml");
        File.WriteAllText(longer, File.ReadAllText(SmokeRecipe).Replace("max_steps: 2", "max_steps: 3", StringComparison.Ordinal));
        var resumed = await CliRun.RunAsync(string.Empty, "train", "--recipe", longer, "--output", run, "--resume", "latest");
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("trained steps 3..3", resumed.Out, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3], File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()));
        Assert.True(File.Exists(Path.Combine(run, "checkpoint-3", "trainer_state.json")));
    }

    [Fact]
    public async Task EvalOnStartAndAtTheEndWritesEvalJsonlAndDrawsItInTheCurves()
    {
        var run = Path.Combine(_folder, "eval");
        var recipe = Path.Combine(_folder, "smoke-eval.yaml");
        File.WriteAllText(recipe, File.ReadAllText(SmokeRecipe).Replace("eval_tasks: 50", "eval_tasks: 4\neval_strategy: steps\neval_on_start: true\neval_samples: 2", StringComparison.Ordinal));
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", recipe, "--output", run);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("eval before step 1: held-out success", result.Error, StringComparison.Ordinal);
        Assert.Contains("eval after step 2: held-out success", result.Error, StringComparison.Ordinal);

        var lines = File.ReadAllLines(Path.Combine(run, "eval.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([0, 2], lines.Select(l => l.GetProperty("step").GetInt32()));
        foreach (var line in lines)
        {
            Assert.Equal(4, line.GetProperty("tasks").GetInt32());
            Assert.Equal(2, line.GetProperty("samples").GetInt32());
            Assert.InRange(line.GetProperty("sampled_success_rate").GetDouble(), 0, 1);
            Assert.InRange(line.GetProperty("greedy_format_rate").GetDouble(), 0, 1);
        }

        // Without eval_strategy nothing is evaluated (the smoke test's run folder has no eval.jsonl).
        var plain = Path.Combine(_folder, "plain");
        Assert.Equal(0, (await CliRun.RunAsync(string.Empty, "train", "--recipe", SmokeRecipe, "--output", plain, "--max-steps", "1")).ExitCode);
        Assert.False(File.Exists(Path.Combine(plain, "eval.jsonl")));
    }

    [Fact]
    public async Task TheSeedRecipePassesDryRunWithoutLoadingAModel()
    {
        var output = Path.Combine(_folder, "never");
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", SeedRecipe, "--dry-run", "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);
        var keys = DryRunKeys(result.Out);
        Assert.Equal(("5e-07", "recipe"), keys["learning_rate"]);
        Assert.Equal(("0.001", "recipe"), keys["beta"]);
        Assert.Equal(("1024", "recipe"), keys["max_completion_length"]);
        Assert.Equal(("450", "recipe"), keys["max_steps"]);
        Assert.Contains("prompts per step: 24", result.Out, StringComparison.Ordinal);
        Assert.Contains("cannot download", result.Out, StringComparison.Ordinal);
        Assert.Contains("no model was loaded", result.Out, StringComparison.Ordinal);
        Assert.Contains("notice: use_vllm", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task TheSeedRecipeOnThreeGpusPassesDryRunWithTheMasterFirst()
    {
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", SeedRecipe, "--dry-run", "--data-parallel-devices", "cuda:0, cuda:1,cuda:2");
        Assert.True(result.ExitCode == 0, result.Error);
        var keys = DryRunKeys(result.Out);
        Assert.Equal(("cuda:0", "command line"), keys["device"]);
        Assert.Equal(("cuda:0, cuda:1, cuda:2", "command line"), keys["data_parallel_devices"]);
        Assert.Contains("training devices: cuda:0, cuda:1, cuda:2 (data parallel, master cuda:0)", result.Out, StringComparison.Ordinal);
        Assert.Contains("prompts per step: 24", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARepeatedGpuInTheDeviceListIsAUsageError()
    {
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", SeedRecipe, "--dry-run", "--data-parallel-devices", "cuda:0,cuda:1,cuda:1");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("command line: data_parallel_devices: cuda:1 appears 2 times", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRunPrintsEveryKeyWithItsValueAndWhereItCameFrom()
    {
        var recipe = Path.Combine(_folder, "sources.yaml");
        File.WriteAllText(recipe, "max_steps: 45\noutput_dir: runs/recipe\n");
        var run = Path.Combine(_folder, "x");
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", recipe, "--dry-run", "--output", run, "--device", "cuda:1");
        Assert.True(result.ExitCode == 0, result.Error);
        var lines = result.Out.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("max_steps: 45  (recipe)", lines);
        Assert.Contains("max_staleness: 0  (default)", lines);
        Assert.Contains($"output_dir: {run}  (command line)", lines);
        Assert.Contains("device: cuda:1  (command line)", lines);
        var keys = DryRunKeys(result.Out);
        Assert.Equal(56, keys.Count);
        Assert.Equal(53, keys.Values.Count(k => k.Source == "default"));
        Assert.Contains("decode_loop: auto  (default)", lines);
        Assert.Contains("prompts per step: 8", result.Out, StringComparison.Ordinal);
        Assert.Contains("no model was loaded", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadCommandLineValueIsAUsageErrorWithTheKeysMessage()
    {
        var recipe = Path.Combine(_folder, "plain.yaml");
        File.WriteAllText(recipe, "max_steps: 3\n");
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", recipe, "--dry-run", "--data-parallel-devices", "cuda:0,tpu:1");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("grpo train: command line: data_parallel_devices: unknown device 'tpu:1'; valid: cpu, cuda, cuda:N", result.Error.Split('\n')[0]);
    }

    /// <summary>The dry run's key lines, <c>max_steps: 45  (recipe)</c>, as key -> (value, source).</summary>
    private static Dictionary<string, (string Value, string Source)> DryRunKeys(string output) =>
        output.Split('\n').Select(l => DryRunKey().Match(l.TrimEnd())).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => (m.Groups[2].Value, m.Groups[3].Value));

    [System.Text.RegularExpressions.GeneratedRegex(@"^([a-z0-9_]+): (.*)  \((default|recipe|command line)\)$")]
    private static partial System.Text.RegularExpressions.Regex DryRunKey();

    [Theory]
    [InlineData("data_parallel_devices: cuda:0,tpu:1", "data_parallel_devices")]
    [InlineData("learning_rate: 5", "learning_rate")]
    [InlineData("num_generations: 1", "num_generations")]
    [InlineData("lr_scheduler_type: exponential", "lr_scheduler_type")]
    [InlineData("loss_type: ppo", "loss_type")]
    [InlineData("eval_strategy: epoch", "eval_strategy")]
    [InlineData("eval_samples: 65", "eval_samples")]
    public async Task AWrongRecipeFailsNamingTheKey(string line, string key)
    {
        var recipe = Path.Combine(_folder, "bad.yaml");
        File.WriteAllText(recipe, $"max_steps: 3\n{line}\n");
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", recipe, "--dry-run");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{key}:", result.Error.Split('\n')[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownKeyWarnsAndTheRecipeStillLoads()
    {
        var recipe = Path.Combine(_folder, "typo.yaml");
        File.WriteAllText(recipe, "max_steps: 3\nlearnig_rate: 0.1\n");
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", recipe, "--dry-run");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("warning: unknown key 'learnig_rate'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHubDatasetWithoutALocalFileFailsBeforeAnyModelIsBuilt()
    {
        var recipe = Path.Combine(_folder, "hub.yaml");
        File.WriteAllText(recipe, File.ReadAllText(SmokeRecipe).Replace("dataset_id_or_path: generate", "dataset_id_or_path: Jiayi-Pan/Countdown-Tasks-3to4", StringComparison.Ordinal));
        var run = Path.Combine(_folder, "hub-run");
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", recipe, "--output", run);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cannot download", result.Error, StringComparison.Ordinal);
        Assert.Contains("--dataset FILE", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(run, "initial-model")));
    }

    [Fact]
    public async Task ALocalDatasetFileStandsInForTheHubId()
    {
        var tasks = Path.Combine(_folder, "tasks.jsonl");
        File.WriteAllLines(tasks, Enumerable.Range(1, 30).Select(i => $"{{\"nums\": [{i}, 2, 3], \"target\": {i + 5}}}"));
        var recipe = Path.Combine(_folder, "hub.yaml");
        File.WriteAllText(recipe, File.ReadAllText(SmokeRecipe)
            .Replace("dataset_id_or_path: generate", "dataset_id_or_path: Jiayi-Pan/Countdown-Tasks-3to4", StringComparison.Ordinal)
            .Replace("max_steps: 2", "max_steps: 1", StringComparison.Ordinal));
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", recipe, "--output", Path.Combine(_folder, "local"), "--dataset", tasks);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("data: 27 training tasks", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResumeFromAFolderThatIsNoCheckpointIsAUsageError()
    {
        var result = await CliRun.RunAsync(string.Empty, "train", "--recipe", SmokeRecipe, "--output", Path.Combine(_folder, "r"), "--resume", _folder);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not a checkpoint folder", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--model", "/nonexistent" }, "give --tasks FILE or --generate N")]
    [InlineData(new[] { "--model", "/nonexistent", "--generate", "3", "--tasks", "x.jsonl" }, "not both")]
    [InlineData(new[] { "--model", "/nonexistent", "--generate", "3" }, "/nonexistent")]
    public async Task EvalRejectsBadArguments(string[] args, string message)
    {
        var result = await CliRun.RunAsync(string.Empty, ["eval", .. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }
}
