using System.Globalization;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Grpo.Sft;

/// <summary>
/// The countdown-tiny warm start when the embedded copy is missing (e.g. a build without models/): trained once with
/// the settings that made the shipped one (models/countdown-tiny/README.md), saved under the user's cache folder
/// (<c>$GRPO_CACHE</c>, else <c>$XDG_CACHE_HOME/grpo-aspire</c>, else <c>~/.cache/grpo-aspire</c>) and reused after.
/// </summary>
public static class WarmStart
{
    /// <summary>The settings of the shipped warm start: 3,000 steps of 64 traces (~42M tokens), the compact template.</summary>
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
    /// (<paramref name="options"/> default: <see cref="Options"/> on <paramref name="device"/>), logging progress.
    /// </summary>
    /// <param name="embeddedFolder">Where the embedded copy would be (default <see cref="ModelResolver.EmbeddedDefaultFolder"/>).</param>
    /// <param name="cacheFolder">Where a trained one is kept (default <see cref="CacheFolder"/>).</param>
    public static string Ensure(
        string device, Action<string> log, CancellationToken cancellationToken = default, Func<string, SftOptions>? options = null,
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
        var settings = (options ?? (output => Options(output, device)))(partial);
        log($"model: the embedded warm start is missing, so it is trained first ({settings.Steps} steps x {settings.BatchSize} solver traces on {settings.Device}; "
            + "hours on a CPU, minutes on a GPU) into " + folder);
        using (var trainer = new SftTrainer(settings))
        {
            trainer.Train(m => log(Progress(m)), cancellationToken);
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
