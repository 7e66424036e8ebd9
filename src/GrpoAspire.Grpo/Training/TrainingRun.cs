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

    /// <summary>The recipe as the run uses it, snake_case JSON (<c>recipe.json</c> in the run folder).</summary>
    public static string Describe(GrpoRecipe recipe) => JsonSerializer.Serialize(recipe, RecipeJson);

    /// <summary>
    /// The options as <c>command line</c> overrides of their recipe keys (<see cref="LoadedRecipe.Override(string, string)"/>):
    /// read and range-checked as in a recipe; a <c>--dataset</c> must exist. The master replica runs on the first data-parallel device unless the device is
    /// given as well, when it must be that device.
    /// </summary>
    public static LoadedRecipe Apply(LoadedRecipe loaded, TrainingRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Dataset is not null && !File.Exists(options.Dataset) && !Directory.Exists(options.Dataset))
        {
            throw new RecipeException($"--dataset {options.Dataset}: no such file or folder");
        }

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
}
