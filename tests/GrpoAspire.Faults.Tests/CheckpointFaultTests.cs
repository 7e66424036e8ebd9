using System.Text.Json;
using GrpoAspire.Grpo.Checkpoints;

namespace GrpoAspire.Faults.Tests;

/// <summary>
/// <c>grpo train</c> as a real process against checkpoints that are corrupt, cut off by a full disk, or left by a run
/// killed mid-step: bad input exits 2 naming the file (and, for <c>--resume latest</c>, the newest intact checkpoint),
/// storage failing exits 74 naming the path, and a killed run resumes to the same metrics as one never interrupted.
/// </summary>
public sealed class CheckpointFaultTests(CheckpointFaultTests.UninterruptedRun baseline) : IClassFixture<CheckpointFaultTests.UninterruptedRun>, IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-ckpt-faults").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// The uninterrupted run every test compares with or starts from: the tiny recipe, 4 steps, checkpoints 2 and 4.
    /// </summary>
    public sealed class UninterruptedRun : IAsyncLifetime
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("grpo-ckpt-baseline").FullName;

        public string Recipe => Path.Combine(Folder, "tiny.yaml");

        public string Run => Path.Combine(Folder, "run");

        public async Task InitializeAsync()
        {
            File.WriteAllText(Recipe, Recipes.Tiny(maxSteps: 4, saveSteps: 2, completionTokens: 48));
            using var run = await GrpoCliProcess.RunAsync(RunTimeout, "train", "--recipe", Recipe, "--output", Run);
            Assert.True(run.ExitCode == 0, run.Error);
        }

        public Task DisposeAsync()
        {
            Directory.Delete(Folder, recursive: true);
            return Task.CompletedTask;
        }
    }

    [Theory]
    [InlineData("trainer_state.json", "garble", "its SHA-256 differs from the manifest's")]
    [InlineData("optimizer.bin", "truncate", "bytes, the manifest says")]
    [InlineData("model.safetensors", "flip", "its SHA-256 differs from the manifest's")]
    public async Task ResumingLatestFromACorruptCheckpointExits2NamingTheFileAndTheNewestIntactOne(string file, string damage, string problem)
    {
        var run = CopyBaseline();
        Damage(Path.Combine(run, "checkpoint-4", file), damage);

        using var resumed = await Train(run, "--resume", "latest", "--max-steps", "5");

        Assert.Equal(2, resumed.ExitCode);
        var error = OneLineError(resumed);
        Assert.StartsWith($"grpo train: {Path.Combine(run, "checkpoint-4", file)}: ", error, StringComparison.Ordinal);
        Assert.Contains(problem, error, StringComparison.Ordinal);
        Assert.Contains($"the newest intact checkpoint is {Path.Combine(run, "checkpoint-2")}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trainer_state.json", "not json", "trainer_state.json: not valid JSON (line 1, byte 2)")]
    [InlineData("optimizer.bin", "truncate", "optimizer.bin: ends early (truncated?)")]
    public async Task ACheckpointWithoutAManifestStillHasItsBadFileNamed(string file, string damage, string message)
    {
        var run = CopyBaseline();
        File.Delete(Path.Combine(run, "checkpoint-4", CheckpointManifest.FileName));
        Damage(Path.Combine(run, "checkpoint-4", file), damage);

        using var resumed = await Train(run, "--resume", Path.Combine(run, "checkpoint-4"), "--max-steps", "5");

        Assert.Equal(2, resumed.ExitCode);
        Assert.Equal($"grpo train: {Path.Combine(run, "checkpoint-4", message)}", OneLineError(resumed));
    }

    [Fact]
    public async Task ACheckpointFromBeforeManifestsStillResumesAndTheLogSaysItIsNotHashChecked()
    {
        var run = CopyBaseline();
        File.Delete(Path.Combine(run, "checkpoint-4", CheckpointManifest.FileName));

        using var resumed = await Train(run, "--resume", "latest", "--max-steps", "5");

        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains($"has no {CheckpointManifest.FileName} (written before manifests)", resumed.Error, StringComparison.Ordinal);
        Assert.Contains("trained steps 5..5", resumed.Out, StringComparison.Ordinal);
        CheckpointManifest.Verify(Path.Combine(run, "checkpoint-5")); // new checkpoints carry one
    }

    [Fact]
    public async Task AKilledRunResumedFromLatestEndsWithTheMetricsOfAnUninterruptedOne()
    {
        // The warm-started model solves about half of its tasks: rewards, losses and lengths depend on every prompt,
        // weight and moment, so a resume that restores any of them wrongly changes step 3's metrics. (The random tiny
        // model's metrics are the same whatever it is fed.)
        var recipe = Path.Combine(_folder, "countdown.yaml");
        File.WriteAllText(recipe, Recipes.CountdownTiny(maxSteps: 3, maxStaleness: 0)
            .Replace("save_steps: 3", "save_steps: 2", StringComparison.Ordinal)
            .Replace("num_generations: 8", "num_generations: 4", StringComparison.Ordinal));
        var straight = Path.Combine(_folder, "straight");
        using (var uninterrupted = await GrpoCliProcess.RunAsync(RunTimeout, "train", "--recipe", recipe, "--output", straight))
        {
            Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Error);
        }

        var run = Path.Combine(_folder, "killed");
        using (var doomed = GrpoCliProcess.Start("train", "--recipe", recipe, "--output", run))
        {
            var checkpoint2 = Path.Combine(run, "checkpoint-2", TrainerState.FileName);
            var deadline = DateTime.UtcNow + RunTimeout;
            while (!File.Exists(checkpoint2) && !doomed.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }

            doomed.Kill(); // SIGKILL while step 3 runs
            Assert.True(File.Exists(checkpoint2), $"checkpoint-2 never appeared:\n{doomed.Error}");
        }

        Assert.DoesNotContain(3.0, MetricsOf(run).Select(m => m["step"])); // killed mid-step 3, not after it

        using var resumed = await GrpoCliProcess.RunAsync(RunTimeout, "train", "--recipe", recipe, "--output", run, "--resume", "latest");

        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("trained steps 3..3", resumed.Out, StringComparison.Ordinal);
        var expected = MetricsOf(straight);
        var actual = MetricsOf(run);
        Assert.Equal([1.0, 2.0, 3.0], actual.Select(m => m["step"]));
        Assert.NotEqual(Deterministic(expected[1]), Deterministic(expected[2])); // the steps differ: there is something to compare
        foreach (var (want, got) in expected.Zip(actual))
        {
            Assert.Equal(Deterministic(want), Deterministic(got)); // bit-exact: doubles compared as logged, every digit
        }
    }

    [TmpfsFact]
    public async Task AFullDiskDuringASaveExits74NamingThePathAndLeavesTheEarlierCheckpointToResumeFrom()
    {
        using var disk = Tmpfs.Mount(Path.Combine(_folder, "disk"), megabytes: 16);
        var run = Path.Combine(disk.Path, "run");
        using (var first = await Train(run, "--max-steps", "2"))
        {
            Assert.True(first.ExitCode == 0, first.Error);
        }

        // Fill the disk but for a little: step 3 and its logs fit, checkpoint-4's model does not.
        var model = new FileInfo(Path.Combine(run, "checkpoint-2", "model.safetensors")).Length;
        var filler = Path.Combine(disk.Path, "filler");
        disk.FillLeaving(filler, bytesFree: model / 2);

        using var full = await Train(run, "--resume", "latest");

        Assert.Equal(74, full.ExitCode);
        var error = OneLineError(full);
        Assert.StartsWith($"grpo train: no space left on device writing {Path.Combine(run, "checkpoint-4.partial")}", error, StringComparison.Ordinal);
        Assert.Equal([Path.Combine(run, "checkpoint-2")], CheckpointFolders.All(run));
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoint-4.partial")), "the failed save's partial folder was left taking space");
        CheckpointManifest.Verify(Path.Combine(run, "checkpoint-2"));

        File.Delete(filler);
        using var again = await Train(run, "--resume", "latest");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Contains("trained steps 3..4", again.Out, StringComparison.Ordinal);
    }

    private Task<GrpoCliProcess> Train(string run, params string[] args) =>
        GrpoCliProcess.RunAsync(RunTimeout, ["train", "--recipe", baseline.Recipe, "--output", run, .. args]);

    /// <summary>The baseline run folder copied, so each test damages its own.</summary>
    private string CopyBaseline()
    {
        var run = Path.Combine(_folder, "run");
        foreach (var file in Directory.GetFiles(baseline.Run, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(run, Path.GetRelativePath(baseline.Run, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return run;
    }

    private static void Damage(string path, string how)
    {
        switch (how)
        {
            case "not json":
                File.WriteAllText(path, "not json {");
                break;
            case "garble":
                var text = File.ReadAllBytes(path);
                text[0] = (byte)'#'; // the same size, no longer JSON
                File.WriteAllBytes(path, text);
                break;
            case "truncate":
                using (var stream = new FileStream(path, FileMode.Open))
                {
                    stream.SetLength(stream.Length / 2);
                }

                break;
            case "flip":
                var bytes = File.ReadAllBytes(path);
                bytes[bytes.Length / 2] ^= 0x40; // inside the tensor data: the header still parses
                File.WriteAllBytes(path, bytes);
                break;
            default:
                throw new ArgumentException($"unknown damage '{how}'", nameof(how));
        }
    }

    /// <summary>The error line of a failed run: the last line of stderr, with no stack trace anywhere.</summary>
    private static string OneLineError(GrpoCliProcess process)
    {
        Assert.DoesNotContain("   at ", process.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", process.Error, StringComparison.Ordinal);
        return process.Error.TrimEnd().Split('\n')[^1];
    }

    private static List<Dictionary<string, double>> MetricsOf(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(line => JsonSerializer.Deserialize<Dictionary<string, double>>(line)!).ToList();

    /// <summary>A step's metrics without the clock's (seconds, tokens per second), which no two runs share.</summary>
    private static Dictionary<string, double> Deterministic(Dictionary<string, double> metrics) =>
        metrics.Where(m => !m.Key.EndsWith("_seconds", StringComparison.Ordinal) && m.Key != "tokens_per_second")
            .ToDictionary(m => m.Key, m => m.Value);
}
