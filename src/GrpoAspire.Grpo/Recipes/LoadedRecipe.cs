using YamlDotNet.RepresentationModel;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>
/// A resolved recipe, the notices about keys that were ignored, and for every key where its value came from:
/// its default, the recipe file, or the command line (<see cref="Override(string, string)"/>).
/// </summary>
public sealed class LoadedRecipe
{
    private const string DeviceKey = "device";
    private const string DataParallelDevicesKey = "data_parallel_devices";

    /// <summary>The keys as given, before <c>device</c> follows <c>data_parallel_devices</c>: an override starts again from here.</summary>
    private readonly GrpoRecipe _given;

    /// <summary>The keys that were given, with their source; every other key has its default.</summary>
    private readonly IReadOnlyDictionary<string, RecipeSource> _sources;

    private LoadedRecipe(GrpoRecipe recipe, GrpoRecipe given, IReadOnlyDictionary<string, RecipeSource> sources, IReadOnlyList<string> notices)
    {
        Recipe = recipe;
        _given = given;
        _sources = sources;
        Notices = notices;
    }

    public GrpoRecipe Recipe { get; }

    public IReadOnlyList<string> Notices { get; }

    /// <summary>Every key with its value and source, in the order of their declarations.</summary>
    public IReadOnlyList<RecipeSetting> Settings =>
        RecipeKeys.All.Select(k => new RecipeSetting(k.Name, k.Format(Recipe), SourceOf(k.Name))).ToArray();

    public void Deconstruct(out GrpoRecipe recipe, out IReadOnlyList<string> notices) => (recipe, notices) = (Recipe, Notices);

    /// <summary>Where <paramref name="key"/>'s value came from; a device that follows data_parallel_devices came from where the list did.</summary>
    public RecipeSource SourceOf(string key)
    {
        if (RecipeKeys.Find(key) is null)
        {
            throw new ArgumentException($"'{key}' is not a recipe key", nameof(key));
        }

        return key == DeviceKey && DeviceFollowsMaster(_given, _sources) ? Given(_sources, DataParallelDevicesKey) : Given(_sources, key);
    }

    /// <summary>
    /// The recipe with <paramref name="key"/> set from the command line: read and range-checked as in a recipe file, errors
    /// say <c>command line: key: ...</c>, and the rules between keys are checked again.
    /// </summary>
    public LoadedRecipe Override(string key, string value) => Override([(key, value)]);

    /// <summary>Several keys at once, checked together: <c>device</c> and <c>data_parallel_devices</c> only make sense as a pair.</summary>
    public LoadedRecipe Override(IEnumerable<(string Key, string Value)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var overrides = values.ToArray();
        if (overrides.Length == 0)
        {
            return this;
        }

        const string source = "command line";
        var given = _given;
        var sources = new Dictionary<string, RecipeSource>(_sources);
        foreach (var (key, value) in overrides)
        {
            var declared = RecipeKeys.Find(key) ?? throw new RecipeException($"{source}: unknown key '{key}'");
            given = declared.Set(given, new RecipeValue(key, new YamlScalarNode(value), source));
            sources[key] = RecipeSource.CommandLine;
        }

        return Resolve(given, sources, Notices, source);
    }

    /// <summary>Derives what follows from other keys and checks the rules between keys; <paramref name="source"/> starts the error.</summary>
    internal static LoadedRecipe Resolve(
        GrpoRecipe given, IReadOnlyDictionary<string, RecipeSource> sources, IReadOnlyList<string> notices, string source)
    {
        var recipe = DeviceFollowsMaster(given, sources) ? given with { Device = given.DataParallelDevices[0] } : given;
        RecipeValidator.Validate(recipe, source);
        return new(recipe, given, sources, notices);
    }

    /// <summary>
    /// With data_parallel_devices, the first entry is the master replica's device: device follows it unless device was given
    /// by the same source or a later one. So a device list on the command line moves the master off a recipe's device, and a
    /// device given along with its list must name the first entry (<see cref="RecipeValidator"/>).
    /// </summary>
    private static bool DeviceFollowsMaster(GrpoRecipe given, IReadOnlyDictionary<string, RecipeSource> sources) =>
        given.DataParallelDevices.Count > 0 && Given(sources, DeviceKey) < Given(sources, DataParallelDevicesKey);

    private static RecipeSource Given(IReadOnlyDictionary<string, RecipeSource> sources, string key) =>
        sources.GetValueOrDefault(key, RecipeSource.Default);
}
