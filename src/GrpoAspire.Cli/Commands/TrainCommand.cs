using System.Diagnostics;
using System.Text.Json;
using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using Spectre.Console;

namespace GrpoAspire.Cli.Commands;

/// <summary><c>grpo train</c>: a GRPO run from a YAML recipe, in this process (generation, reward and training on one device).</summary>
public sealed class TrainCommand : ICommand
{
    public string Name => "train";

    public string Summary => "Train with GRPO from a YAML recipe (checkpoints, metrics.jsonl, TensorBoard, curves.png).";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("recipe", "FILE", "YAML recipe: the seed's TRL keys plus ours (see recipes/)", Required: true),
        new("dry-run", null, "validate the recipe, print every key with its value and source (default, recipe, command line) and exit without loading a model"),
        new("output", "DIR", "run folder (default: the recipe's output_dir)"),
        new("dataset", "FILE", "local parquet / JSONL tasks standing in for a Hub dataset_id_or_path"),
        new("model", "DIR", "local Hugging Face folder standing in for model_name_or_path"),
        new("resume", "DIR|latest", "continue from a checkpoint folder, or the newest one in the run folder"),
        new("device", "DEVICE", "cpu, cuda or cuda:N (default: the recipe's device)"),
        new("data-parallel-devices", "LIST", "one policy replica per device, master first, e.g. cuda:0,cuda:1,cuda:2 (default: the recipe's data_parallel_devices)"),
        new("max-steps", "N", "stop after N optimizer steps instead of the recipe's max_steps"),
    ];

    public string Details => """
        Run folder: checkpoint-N/ (Hugging Face model folder + optimizer.bin + trainer_state.json, and
        checkpoint_manifest.json: each file's size and SHA-256, checked on resume) every save_steps,
        metrics.jsonl, tensorboard/events.out.tfevents.*, completion_samples/{completion_samples,
        success_completion_samples}.txt, curves.png, recipe.json (the resolved recipe).

        Exit codes:
          0  trained to max_steps (or, with --dry-run, the recipe is valid)
          2  bad recipe, arguments, model, dataset or checkpoint (the message names the key or file; with
             --resume latest on a corrupt newest checkpoint it names the newest intact one too)
          74 storage failed: no space left, quota, read-only file system, I/O error (the message names the
             path; a failed checkpoint save leaves the earlier checkpoints intact, and the run resumes from them)

        Example:
          grpo train --recipe recipes/smoke-cpu.yaml --output runs/smoke
        """;

    public async Task<int> RunAsync(ParsedArguments arguments, CliConsole console, CancellationToken cancellationToken)
    {
        var recipePath = arguments.Required("recipe");
        var options = new TrainingRunOptions
        {
            Output = arguments.Value("output"), Dataset = arguments.Value("dataset"), Model = arguments.Value("model"),
            Resume = arguments.Value("resume"), Device = arguments.Value("device"), DataParallelDevices = arguments.Value("data-parallel-devices"),
            MaxSteps = arguments.Has("max-steps") ? arguments.Int32("max-steps", 1, 1, 10_000_000) : null,
        };
        LoadedRecipe loaded;
        try
        {
            loaded = RecipeLoader.LoadFile(recipePath);
        }
        catch (RecipeException e)
        {
            throw new UsageException(e.Message);
        }

        foreach (var notice in loaded.Notices)
        {
            console.Error.WriteLine(notice);
        }

        LoadedRecipe applied;
        try
        {
            applied = TrainingRun.Apply(loaded, options);
        }
        catch (RecipeException e)
        {
            throw new UsageException(e.Message);
        }

        if (arguments.Has("dry-run"))
        {
            return DryRun(applied, options, console);
        }

        try
        {
            var result = await Train(applied.Recipe, options.Resume, console, cancellationToken);
            console.Out.WriteLine(
                $"trained steps {result.FirstStep + 1}..{result.LastStep} in {applied.Recipe.OutputDir}"
                + (result.LastCheckpoint is null ? string.Empty : $"; last checkpoint {result.LastCheckpoint}"));
            return ExitCodes.Success;
        }
        catch (IOException e) when (StorageException.CauseOf(e) is not null)
        {
            throw new CommandFailedException(ExitCodes.IoError, StorageException.Writing(e, applied.Recipe.OutputDir)!.Message, e);
        }
        catch (Exception e) when (e is IOException or TaskDataException or ArgumentException or InvalidDataException or UnauthorizedAccessException or JsonException)
        {
            // Bad input met while running (a corrupt checkpoint, an IOException, names its file): one line, no usage.
            throw new CommandFailedException(ExitCodes.Usage, e.Message, e);
        }
    }

    /// <summary>Every key with its value and source (<c>max_steps: 45  (recipe)</c>), then what follows from them.</summary>
    private static int DryRun(LoadedRecipe applied, TrainingRunOptions options, CliConsole console)
    {
        var o = console.Out;
        var recipe = applied.Recipe;
        foreach (var setting in applied.Settings)
        {
            o.WriteLine(setting.Describe());
        }

        o.WriteLine($"prompts per step: {recipe.PromptsPerStep} ({recipe.PerDeviceTrainBatchSize} x {recipe.GradientAccumulationSteps} accumulation x {recipe.NumProcesses} processes)");
        o.WriteLine($"completions per step: {recipe.CompletionsPerStep} ({recipe.NumGenerations} per prompt)");
        o.WriteLine(recipe.DataParallelDevices.Count > 1
            ? $"training devices: {string.Join(", ", recipe.DataParallelDevices)} (data parallel, master {recipe.DataParallelDevices[0]})"
            : $"training device: {recipe.Device}");
        o.WriteLine($"dataset: {TrainingData.Resolve(recipe).Description}");
        var model = recipe.ModelNameOrPath;
        o.WriteLine(model.StartsWith(ModelResolver.RandomPrefix, StringComparison.Ordinal)
            ? $"model: {model} (created in the run folder)"
            : Directory.Exists(model) ? $"model: {model}" : $"model: '{model}' is not a local folder; a run needs --model DIR");
        if (options.Resume is not null)
        {
            o.WriteLine($"resume: {options.Resume}");
        }

        o.WriteLine("dry run: the recipe is valid; no model was loaded");
        return ExitCodes.Success;
    }

    /// <summary>Steps trained by this command (after <paramref name="FirstStep"/>, through <paramref name="LastStep"/>) and the last checkpoint it wrote.</summary>
    private sealed record TrainedSteps(int FirstStep, int LastStep, string? LastCheckpoint);

    private static async Task<TrainedSteps> Train(GrpoRecipe recipe, string? resume, CliConsole console, CancellationToken cancellationToken)
    {
        var maxSteps = recipe.MaxSteps;
        var interactive = ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;
        if (!interactive)
        {
            // Logs and CI: a plain line every logging_steps, with the time left.
            var clock = Stopwatch.StartNew();
            int? first = null;
            return await Loop(recipe, resume, console.Error.WriteLine, metrics =>
            {
                first ??= metrics.Step - 1;
                if (metrics.Step % recipe.LoggingSteps == 0 || metrics.Step == maxSteps)
                {
                    var perStep = clock.Elapsed.TotalSeconds / (metrics.Step - first.Value);
                    console.Error.WriteLine($"{Line(metrics, maxSteps)} | ETA {Eta(perStep * (maxSteps - metrics.Step))}");
                }
            }, cancellationToken);
        }

        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Error) });
        TrainedSteps? result = null;
        await ansi.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("loading", maxValue: maxSteps);
                result = await Task.Run(
                    () => Loop(recipe, resume, message => task.Description = Markup.Escape(message), metrics =>
                    {
                        task.Value = metrics.Step;
                        task.Description = Markup.Escape(Line(metrics, maxSteps));
                    }, cancellationToken),
                    cancellationToken);
            });
        return result!;
    }

    /// <summary>The run: the trainer opened (resumed when asked), then stepped to max_steps.</summary>
    private static async Task<TrainedSteps> Loop(
        GrpoRecipe recipe, string? resume, Action<string> log, Action<StepMetrics> onStep, CancellationToken cancellationToken)
    {
        using var trainer = await GrpoTrainer.OpenAsync(recipe, new TrainerStart(log, resume), cancellationToken);
        var first = trainer.GlobalStep;
        string? lastCheckpoint = null;
        while (!trainer.IsFinished)
        {
            var step = await trainer.StepAsync(cancellationToken);
            lastCheckpoint = step.Checkpoint ?? lastCheckpoint;
            onStep(step.Metrics);
        }

        return new TrainedSteps(first, trainer.GlobalStep, lastCheckpoint);
    }

    private static string Line(StepMetrics m, int maxSteps) =>
        $"step {m.Step}/{maxSteps} | reward {m.Reward:F3} | success {m.SuccessRate:P1} | format {m.FormatRate:P1} | kl {m.Kl:G3} "
        + $"| loss {m.Loss:G3} | len {m.CompletionLengthMean:F0} | {m.StepSeconds:F1} s/step";

    private static string Eta(double seconds) =>
        TimeSpan.FromSeconds(Math.Max(0, seconds)) is var t && t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";
}
