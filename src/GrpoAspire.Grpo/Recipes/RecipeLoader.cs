using YamlDotNet.RepresentationModel;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>
/// Reads YAML recipes with the seed's TRL keys. Keys with no meaning here are accepted with a one-line
/// notice, unknown keys warn, bad values fail with a message naming the key and the valid range.
/// </summary>
public static class RecipeLoader
{
    private const long MaxRecipeBytes = 1 << 20;

    /// <summary>TRL / accelerate keys that configure things this runtime does differently or not at all.</summary>
    internal static readonly IReadOnlyDictionary<string, string> AcceptedWithoutEffect = new Dictionary<string, string>
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

    /// <summary>A template file named relative to the recipe is found in the recipe's folder.</summary>
    private static GrpoRecipe WithTemplateBesideRecipe(GrpoRecipe recipe, string source)
    {
        var template = recipe.PromptTemplate;
        if (!template.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || Path.IsPathRooted(template) || !File.Exists(source))
        {
            return recipe;
        }

        var beside = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(source))!, template));
        return File.Exists(beside) ? recipe with { PromptTemplate = beside } : recipe;
    }

    /// <summary>Reads <paramref name="yaml"/>; <paramref name="source"/> (the file's path) starts every error message.</summary>
    public static LoadedRecipe Load(string yaml, string source = "recipe")
    {
        var root = ParseMapping(yaml, source);
        var notices = new List<string>();
        var recipe = new GrpoRecipe();
        var given = new Dictionary<string, RecipeSource>();
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            if (AcceptedWithoutEffect.TryGetValue(key, out var why))
            {
                notices.Add($"notice: {key} is accepted and has no effect here ({why})");
                continue;
            }

            if (RecipeKeys.Find(key) is not { } declared)
            {
                notices.Add($"warning: unknown key '{key}' in {source} is ignored");
                continue;
            }

            recipe = declared.Set(recipe, new RecipeValue(key, valueNode, source));
            given[key] = RecipeSource.Recipe;
        }

        return LoadedRecipe.Resolve(WithTemplateBesideRecipe(recipe, source), given, notices, source);
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
