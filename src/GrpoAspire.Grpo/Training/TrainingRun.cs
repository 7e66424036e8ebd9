using System.Text.Json;
using System.Text.Json.Serialization;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Evaluation;
using GrpoAspire.Grpo.Logging;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Training;

/// <summary>What the command line adds to a recipe for one run.</summary>
public sealed record TrainingRunOptions
{
    /// <summary>Run folder; default the recipe's <c>output_dir</c>.</summary>
    public string? Output { get; init; }

    /// <summary>A local task file standing in for the recipe's <c>dataset_id_or_path</c>.</summary>
    public string? Dataset { get; init; }

    /// <summary>A local model folder standing in for the recipe's <c>model_name_or_path</c>.</summary>
    public string? Model { get; init; }

    /// <summary>A checkpoint folder, or <c>latest</c> for the newest one in the run folder.</summary>
    public string? Resume { get; init; }

    /// <summary>Overrides the recipe's device (cpu, cuda, cuda:N).</summary>
    public string? Device { get; init; }

    /// <summary>Overrides the recipe's data_parallel_devices: a comma-separated list, master first (cuda:0,cuda:1,cuda:2).</summary>
    public string? DataParallelDevices { get; init; }

    /// <summary>Overrides the recipe's max_steps (the schedule follows it).</summary>
    public int? MaxSteps { get; init; }
}

/// <summary>
/// How a host takes part in a run: where rollouts come from (default: the colocated sampler) and a look at
/// the trainer once it is built (to publish its initial weights).
/// </summary>
public sealed record TrainingHooks(Func<Qwen2ForCausalLM, IRolloutSource>? Rollouts = null, Action<GrpoTrainer>? OnStart = null);

/// <summary>The outcome of a run.</summary>
public sealed record TrainingRunResult(string RunDirectory, int FirstStep, int LastStep, string? LastCheckpoint, IReadOnlyList<StepMetrics> Steps);

/// <summary>
/// One training run with every output the run folder promises: checkpoints, <c>metrics.jsonl</c>,
/// TensorBoard events under <c>tensorboard/</c>, completion samples, <c>curves.png</c>, held-out evaluations
/// (<c>eval.jsonl</c>, when the recipe asks for them), and the resolved
/// recipe (<c>recipe.json</c>). Data and model are resolved before anything heavy is loaded, so a bad path
/// fails in milliseconds.
/// </summary>
public static class TrainingRun
{
    public const string TensorBoardFolder = "tensorboard";
    public const string ResolvedRecipeFileName = "recipe.json";

    private static readonly JsonSerializerOptions RecipeJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The recipe as the run will use it, snake_case JSON (printed by <c>--dry-run</c>, saved in the run folder).</summary>
    public static string Describe(GrpoRecipe recipe) => JsonSerializer.Serialize(recipe, RecipeJson);

    /// <summary>
    /// The options as <c>command line</c> overrides of their recipe keys (<see cref="LoadedRecipe.Override(string, string)"/>):
    /// read and range-checked as in a recipe. The master replica runs on the first data-parallel device unless the device is
    /// given as well, when it must be that device.
    /// </summary>
    public static LoadedRecipe Apply(LoadedRecipe loaded, TrainingRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(options);
        (string Key, string? Value)[] overrides =
        [
            ("output_dir", options.Output),
            ("dataset_id_or_path", options.Dataset),
            ("model_name_or_path", options.Model),
            ("device", options.Device),
            ("data_parallel_devices", options.DataParallelDevices),
            ("max_steps", options.MaxSteps?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ];
        return loaded.Override(overrides.Where(o => o.Value is not null).Select(o => (o.Key, o.Value!)));
    }

    /// <summary><see cref="Apply(LoadedRecipe, TrainingRunOptions)"/> for a recipe that is already resolved.</summary>
    public static GrpoRecipe Apply(GrpoRecipe recipe, TrainingRunOptions options) =>
        Apply(LoadedRecipe.FromRecipe(recipe), options).Recipe;

    public static async Task<TrainingRunResult> RunAsync(
        GrpoRecipe recipe, TrainingRunOptions options, Action<string> log, Action<StepMetrics>? onStep = null,
        CancellationToken cancellationToken = default, TrainingHooks? hooks = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (options.Dataset is not null && !File.Exists(options.Dataset) && !Directory.Exists(options.Dataset))
        {
            throw new Countdown.Datasets.TaskDataException($"--dataset {options.Dataset}: no such file or folder");
        }

        recipe = Apply(recipe, options);
        var runDirectory = recipe.OutputDir;
        var resume = ResolveResume(options.Resume, runDirectory);
        var tasks = await TrainingData.LoadAsync(recipe, cancellationToken);
        log($"data: {tasks.Count} training tasks ({TrainingData.Resolve(recipe).Description})");
        Directory.CreateDirectory(runDirectory);
        var modelFolder = recipe.ModelNameOrPath == ModelResolver.EmbeddedDefault
            ? Sft.WarmStart.Ensure(recipe.Device, log, cancellationToken)
            : ModelResolver.Resolve(recipe.ModelNameOrPath, runDirectory, recipe.Seed);
        log($"model: {modelFolder}" + (resume is null ? string.Empty : $", resuming from {resume}"));
        var tokenizer = QwenTokenizer.FromDirectory(modelFolder);
        File.WriteAllText(Path.Combine(runDirectory, ResolvedRecipeFileName), Describe(recipe));
        var metricsPath = Path.Combine(runDirectory, MetricsJsonlWriter.FileName);
        var startStep = resume is null ? 0 : TrainerState.Load(resume).GlobalStep;
        KeepMetricsUpTo(metricsPath, startStep);
        KeepMetricsUpTo(Path.Combine(runDirectory, Countdown.Evaluation.HeldOutResults.FileName), startStep);

        var setup = new TrainerSetup(recipe, modelFolder, tokenizer, tasks, runDirectory, resume, Rollouts: hooks?.Rollouts);
        using var trainer = new GrpoTrainer(setup);
        hooks?.OnStart?.Invoke(trainer);
        var evaluation = recipe.EvalEnabled || recipe.EvalOnStart ? new HeldOutEvaluation(recipe, tokenizer, runDirectory) : null;
        if (evaluation is not null && recipe.EvalOnStart && startStep == 0)
        {
            log($"eval: {recipe.EvalTasks} held-out tasks, before step 1 ...");
            log($"eval before step 1: {evaluation.Run(trainer.Policy, 0).Describe()}");
        }

        var tensorBoard = new TensorBoardLogger(Path.Combine(runDirectory, TensorBoardFolder));
        var pngPath = Path.Combine(runDirectory, CurvePlotter.FileName);
        string? lastCheckpoint = null;
        var steps = trainer.Train(onStep: metrics =>
        {
            tensorBoard.Write(metrics);
            onStep?.Invoke(metrics);
            var plot = false;
            if (recipe.IsCheckpointStep(metrics.Step))
            {
                lastCheckpoint = CheckpointFolders.For(runDirectory, metrics.Step);
                plot = true;
            }

            if (evaluation is not null && recipe.IsEvalStep(metrics.Step))
            {
                log($"eval after step {metrics.Step}: {evaluation.Run(trainer.Policy, metrics.Step).Describe()}");
                plot = true;
            }

            if (plot)
            {
                CurvePlotter.Plot(metricsPath, pngPath);
            }
        }, cancellationToken: cancellationToken);
        CurvePlotter.Plot(metricsPath, pngPath);
        return new TrainingRunResult(runDirectory, startStep, trainer.GlobalStep, lastCheckpoint, steps);
    }

    /// <summary><c>latest</c> is the newest checkpoint of the run folder; a folder must hold a trainer state.</summary>
    public static string? ResolveResume(string? resume, string runDirectory)
    {
        if (resume is null)
        {
            return null;
        }

        if (resume == "latest")
        {
            return CheckpointFolders.Latest(runDirectory)
                ?? throw new DirectoryNotFoundException($"--resume latest: {runDirectory} holds no complete checkpoint-N folder");
        }

        if (!File.Exists(Path.Combine(resume, TrainerState.FileName)))
        {
            throw new DirectoryNotFoundException($"--resume {resume}: not a checkpoint folder (no {TrainerState.FileName})");
        }

        return resume;
    }

    /// <summary>A resumed run rewrites the steps after its checkpoint, so their old lines go.</summary>
    private static void KeepMetricsUpTo(string path, int step)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var kept = File.ReadLines(path).Where(line =>
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                return document.RootElement.TryGetProperty("step", out var s) && s.GetDouble() <= step;
            }
            catch (JsonException)
            {
                return false;
            }
        }).ToArray();
        File.WriteAllLines(path, kept);
    }
}
