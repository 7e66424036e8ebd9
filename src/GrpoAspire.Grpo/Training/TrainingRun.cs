using System.Text.Json;
using System.Text.Json.Serialization;
using GrpoAspire.Grpo.Recipes;

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

/// <summary>A recipe as one run uses it: the command line's options applied, and its JSON form (<c>recipe.json</c>).</summary>
public static class TrainingRun
{
    private static readonly JsonSerializerOptions RecipeJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The recipe as the run will use it, snake_case JSON (printed by <c>--dry-run</c>, saved in the run folder).</summary>
    public static string Describe(GrpoRecipe recipe) => JsonSerializer.Serialize(recipe, RecipeJson);

    public static GrpoRecipe Apply(GrpoRecipe recipe, TrainingRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(options);
        var devices = options.DataParallelDevices is { } list
            ? TrainingDevices.Normalize(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            : recipe.DataParallelDevices;
        return recipe with
        {
            // The master replica runs on the first data-parallel device unless --device names one (checked when the trainer starts).
            Device = options.Device ?? (options.DataParallelDevices is null ? recipe.Device : devices[0]),
            DataParallelDevices = devices,
            OutputDir = options.Output ?? recipe.OutputDir,
            ModelNameOrPath = options.Model ?? recipe.ModelNameOrPath,
            DatasetIdOrPath = options.Dataset ?? recipe.DatasetIdOrPath,
            MaxSteps = options.MaxSteps ?? recipe.MaxSteps,
        };
    }
}
