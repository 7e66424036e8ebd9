using System.Globalization;
using GrpoAspire.Countdown.Traces;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Grpo.Sft;

/// <summary>
/// The countdown-tiny warm start when the embedded copy is missing (e.g. a build without models/): trained once with
/// the settings that made the shipped one (models/countdown-tiny/README.md, three stages), saved under the user's cache folder
/// (<c>$GRPO_CACHE</c>, else <c>$XDG_CACHE_HOME/grpo-aspire</c>, else <c>~/.cache/grpo-aspire</c>) and reused after.
/// </summary>
public static class WarmStart
{
    /// <summary>
    /// The three stages of the shipped warm start: <see cref="Options"/> (guessed trials), then <see cref="StepwiseOptions"/>
    /// from its result (stepwise traces), then <see cref="ChainOptions"/> (chain traces); the last writes <paramref name="outputDirectory"/>.
    /// </summary>
    public static IReadOnlyList<SftOptions> Stages(string outputDirectory, string device)
    {
        // bf16 files, as shipped: each stage started from the one before as it was shipped (bf16)
        var first = Options(Path.Combine(outputDirectory, "stage-1"), device) with { Dtype = "bfloat16" };
        var second = StepwiseOptions(Path.Combine(outputDirectory, "stage-2"), first.OutputDirectory, device) with { Dtype = "bfloat16" };
        return [first, second, ChainOptions(outputDirectory, second.OutputDirectory, device) with { Dtype = "bfloat16" }];
    }

    /// <summary>
    /// The third stage: 1,200 steps of 64 traces (~14M tokens) from <paramref name="initModel"/>, four-number tasks searched
    /// by chains too, 90% of traces giving up early, lr 1e-3 with 2% warm-up, seed 44.
    /// </summary>
    public static SftOptions ChainOptions(string outputDirectory, string initModel, string device) =>
        StepwiseOptions(outputDirectory, initModel, device) with
        {
            Steps = 1_200,
            Seed = 44,
            Traces = new SolverTraceOptions { Style = TraceStyle.Chain, ImperfectFraction = 0.9, GiveUpEarly = true },
        };

    /// <summary>
    /// The second stage: 1,800 steps of 64 traces (~20M tokens) from <paramref name="initModel"/>, three-number tasks
    /// searched stepwise, 60% of traces giving up early, lr 1e-3 with 2% warm-up, seed 43.
    /// </summary>
    public static SftOptions StepwiseOptions(string outputDirectory, string initModel, string device) => Options(outputDirectory, device) with
    {
        InitModel = initModel,
        Steps = 1_800,
        LearningRate = 1e-3,
        WarmupRatio = 0.02,
        Seed = 43,
        EvalTasks = 500,
        EvalSamples = 2,
        EvalEvery = 0,
        Traces = new SolverTraceOptions { Style = TraceStyle.Stepwise, ImperfectFraction = 0.6, GiveUpEarly = true },
    };

    /// <summary>The first stage: 3,000 steps of 64 traces (~42M tokens) from scratch, the compact template.</summary>
    public static SftOptions Options(string outputDirectory, string device) => new()
    {
        OutputDirectory = outputDirectory,
        ModelConfig = ModelResolver.CountdownTiny,
        Steps = 3_000,
        BatchSize = 64,
        Device = device,
        EvalTasks = 200,
        EvalEvery = 1_000,
        LogEvery = 50,
    };

    public static string CacheFolder
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("GRPO_CACHE") is { Length: > 0 } explicitRoot ? explicitRoot
                : Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? Path.Combine(xdg, "grpo-aspire")
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "grpo-aspire");
            return Path.Combine(root, ModelResolver.CountdownTiny);
        }
    }

    /// <summary>
    /// The embedded warm start when it is there; else the cached one; else trains it into the cache first
    /// (<paramref name="stages"/> default: <see cref="Stages"/> on <paramref name="device"/>, each from the one before), logging progress.
    /// </summary>
    /// <param name="embeddedFolder">Where the embedded copy would be (default <see cref="ModelResolver.EmbeddedDefaultFolder"/>).</param>
    /// <param name="cacheFolder">Where a trained one is kept (default <see cref="CacheFolder"/>).</param>
    public static string Ensure(
        string device, Action<string> log, CancellationToken cancellationToken = default, Func<string, IReadOnlyList<SftOptions>>? stages = null,
        string? embeddedFolder = null, string? cacheFolder = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        embeddedFolder ??= ModelResolver.EmbeddedDefaultFolder;
        if (File.Exists(Path.Combine(embeddedFolder, "config.json")))
        {
            return embeddedFolder;
        }

        var folder = cacheFolder ?? CacheFolder;
        if (File.Exists(Path.Combine(folder, "config.json")))
        {
            log($"model: the embedded warm start is missing; using the one trained before in {folder}");
            return folder;
        }

        var partial = folder + ".partial";
        if (Directory.Exists(partial))
        {
            Directory.Delete(partial, recursive: true);
        }

        Directory.CreateDirectory(partial);
        var plan = (stages ?? (output => Stages(output, device)))(partial);
        log($"model: the embedded warm start is missing, so it is trained first ({string.Join(" then ", plan.Select(s => $"{s.Steps} steps x {s.BatchSize}"))} "
            + $"solver traces on {plan[0].Device}; hours on a CPU, minutes on a GPU) into " + folder);
        for (var i = 0; i < plan.Count; i++)
        {
            var stage = i + 1;
            using var trainer = new SftTrainer(plan[i]);
            trainer.Train(m => log($"stage {stage}/{plan.Count}: " + Progress(m)), cancellationToken);
        }

        foreach (var stageFolder in plan.Take(plan.Count - 1).Select(s => s.OutputDirectory).Where(d => d != partial && d.StartsWith(partial, StringComparison.Ordinal)))
        {
            Directory.Delete(stageFolder, recursive: true); // earlier stages live inside the partial folder; only the last one's files stay
        }

        // The warm start appears complete or not at all.
        Directory.Move(partial, folder);
        log($"model: warm start saved in {folder}");
        return folder;
    }

    private static string Progress(SftStepMetrics m)
    {
        var eta = TimeSpan.FromSeconds(m.EtaSeconds);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"warm start step {m.Step}/{m.MaxSteps} | loss {m.Loss:F3} | {m.TokensPerSecond:N0} tokens/s | ETA {(int)eta.TotalHours}h{eta.Minutes:00}m");
        return m.Eval is { } e
            ? line + string.Create(CultureInfo.InvariantCulture, $" | held-out greedy success {e.GreedySuccessRate * 100:F1} %")
            : line;
    }
}
