using System.Globalization;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Grpo.Math;
using YamlDotNet.RepresentationModel;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>A loaded recipe and the notices about keys that were ignored.</summary>
public sealed record LoadedRecipe(GrpoRecipe Recipe, IReadOnlyList<string> Notices);

/// <summary>
/// Reads YAML recipes with the seed's TRL keys. Keys with no meaning here are accepted with a one-line
/// notice, unknown keys warn, bad values fail with a message naming the key and the valid range.
/// </summary>
public static class RecipeLoader
{
    private const long MaxRecipeBytes = 1 << 20;

    /// <summary>TRL / accelerate keys that configure things this runtime does differently or not at all.</summary>
    private static readonly Dictionary<string, string> AcceptedWithoutEffect = new()
    {
        ["model_revision"] = "models are local folders; there is no revision to pick",
        ["attn_implementation"] = "attention is TorchSharp's scaled_dot_product_attention",
        ["tf32"] = "TorchSharp decides TF32 use on the GPU",
        ["gradient_checkpointing_kwargs"] = "checkpointing here is one custom autograd function per decoder layer; it takes no options",
        ["use_vllm"] = "generation is built in (the generation service)",
        ["vllm_device"] = "generation runs on the recipe's device",
        ["vllm_gpu_memory_utilization"] = "the KV cache is sized from the batch, not a memory fraction",
        ["logging_strategy"] = "logging is per step (logging_steps)",
        ["report_to"] = "metrics always go to metrics.jsonl and TensorBoard event files",
        ["push_to_hub"] = "this machine cannot reach a model hub",
        ["hub_strategy"] = "this machine cannot reach a model hub",
        ["hub_model_id"] = "this machine cannot reach a model hub",
    };

    public static LoadedRecipe LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new RecipeException($"recipe '{path}' does not exist");
        }

        if (new FileInfo(path).Length > MaxRecipeBytes)
        {
            throw new RecipeException($"recipe '{path}' is larger than {MaxRecipeBytes} bytes");
        }

        return Load(File.ReadAllText(path), path);
    }

    public static LoadedRecipe Load(string yaml, string source = "recipe")
    {
        var root = ParseMapping(yaml, source);
        var notices = new List<string>();
        var recipe = new GrpoRecipe();
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            var value = new RecipeValue(key, valueNode, source);
            if (AcceptedWithoutEffect.TryGetValue(key, out var why))
            {
                notices.Add($"notice: {key} is accepted and has no effect here ({why})");
                continue;
            }

            if (!RecipeKeys.Setters.TryGetValue(key, out var setter))
            {
                notices.Add($"warning: unknown key '{key}' in {source} is ignored");
                continue;
            }

            recipe = setter(recipe, value);
        }

        recipe = WithMasterDevice(recipe, root.Children.Keys.Any(k => k is YamlScalarNode { Value: "device" }), source);
        RecipeValidator.Validate(recipe, source);
        return new LoadedRecipe(recipe, notices);
    }

    /// <summary>
    /// With data_parallel_devices, the first entry is the master replica's device: <c>device</c> follows it when left
    /// out, and must name it when given.
    /// </summary>
    private static GrpoRecipe WithMasterDevice(GrpoRecipe recipe, bool deviceGiven, string source)
    {
        if (recipe.DataParallelDevices.Count == 0)
        {
            return recipe;
        }

        if (!deviceGiven)
        {
            return recipe with { Device = recipe.DataParallelDevices[0] };
        }

        try
        {
            Training.TrainingDevices.RequireMaster(recipe.Device, recipe.DataParallelDevices);
            return recipe;
        }
        catch (ArgumentException e)
        {
            throw new RecipeException($"{source}: {e.Message}");
        }
    }

    private static YamlMappingNode ParseMapping(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new RecipeException($"{source}: not valid YAML at line {e.Start.Line}: {e.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
        {
            throw new RecipeException($"{source}: a recipe is a YAML mapping of keys to values");
        }

        return mapping;
    }
}

/// <summary>One value of a recipe, with typed accessors whose errors name the key.</summary>
internal sealed record RecipeValue(string Key, YamlNode Node, string Source)
{
    private string Scalar => Node is YamlScalarNode { Value: { } text }
        ? text
        : throw Fail("expected a single value");

    public string String() => Scalar.Trim();

    public int Int(int min, int max = int.MaxValue)
    {
        if (!int.TryParse(Scalar, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw Fail($"expected an integer in [{min}, {(max == int.MaxValue ? "inf" : max)}], got '{Scalar}'");
        }

        return value;
    }

    public double Double(double min, double max, bool minExclusive = false)
    {
        if (!double.TryParse(Scalar, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value)
            || value < min || value > max || (minExclusive && value == min))
        {
            throw Fail($"expected a number in {(minExclusive ? "(" : "[")}{min}, {max}], got '{Scalar}'");
        }

        return value;
    }

    public bool Bool() => Scalar.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        _ => throw Fail($"expected true or false, got '{Scalar}'"),
    };

    public IReadOnlyList<string> StringList() => Node switch
    {
        YamlSequenceNode sequence => sequence.Children.Select(c => (c as YamlScalarNode)?.Value
            ?? throw Fail("expected a list of names")).ToArray(),
        YamlScalarNode { Value: { } text } => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        _ => throw Fail("expected a list"),
    };

    public T Parse<T>(Func<string, T> parse)
    {
        try
        {
            return parse(String());
        }
        catch (ArgumentException e)
        {
            throw Fail(e.Message);
        }
    }

    public RecipeException Fail(string what) => new($"{Source}: {Key}: {what}");
}
