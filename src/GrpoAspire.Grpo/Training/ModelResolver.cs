using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Turns a recipe's <c>model_name_or_path</c> into a local Hugging Face folder: a folder as is, or
/// <c>random:tiny</c> / <c>random:small</c> / <c>random:countdown-tiny</c> for a freshly initialized Qwen2 with a
/// byte-level tokenizer (smoke runs; countdown-tiny is the embedded default's shape, trained by <c>grpo sft</c>).
/// Hub ids fail with a message: this machine cannot download.
/// </summary>
public static class ModelResolver
{
    public const string RandomPrefix = "random:";

    /// <summary>The embedded default model's shape (see <see cref="RandomConfig"/>).</summary>
    public const string CountdownTiny = "countdown-tiny";

    /// <summary>The embedded default: models/countdown-tiny, shipped beside the binaries (see models/countdown-tiny/README.md).</summary>
    public const string EmbeddedDefault = "countdown-tiny";

    /// <summary>Where the embedded default lies: copied next to every binary that references this library.</summary>
    public static string EmbeddedDefaultFolder => Path.Combine(AppContext.BaseDirectory, "models", EmbeddedDefault);

    public static string Resolve(string modelNameOrPath, string runDirectory, long seed)
    {
        if (modelNameOrPath == EmbeddedDefault && File.Exists(Path.Combine(EmbeddedDefaultFolder, "config.json")))
        {
            return EmbeddedDefaultFolder;
        }

        if (modelNameOrPath.StartsWith(RandomPrefix, StringComparison.Ordinal))
        {
            var folder = Path.Combine(runDirectory, "initial-model");
            if (!File.Exists(Path.Combine(folder, "config.json")))
            {
                CreateRandom(folder, RandomConfig(modelNameOrPath[RandomPrefix.Length..]), seed);
            }

            return folder;
        }

        if (Directory.Exists(modelNameOrPath) && File.Exists(Path.Combine(modelNameOrPath, "config.json")))
        {
            return modelNameOrPath;
        }

        throw new DirectoryNotFoundException(
            $"model '{modelNameOrPath}' is not a local Hugging Face folder (config.json, model.safetensors, tokenizer.json) "
            + $"and this machine cannot download from a hub; pass --model DIR, or use {EmbeddedDefault} or random:tiny");
    }

    /// <summary>Writes config.json, seeded random weights and a byte-level tokenizer.json.</summary>
    public static void CreateRandom(string folder, Qwen2Config config, long seed)
    {
        Directory.CreateDirectory(folder);
        using var model = new Qwen2ForCausalLM(config);
        model.InitializeWeights(seed);
        Qwen2Checkpoint.Save(model, folder);
        TokenizerJsonWriter.WriteByteLevel(Path.Combine(folder, "tokenizer.json"));
    }

    public static Qwen2Config RandomConfig(string name) => name switch
    {
        "tiny" => new Qwen2Config
        {
            VocabSize = 320, HiddenSize = 64, IntermediateSize = 160, NumHiddenLayers = 2, NumAttentionHeads = 4,
            NumKeyValueHeads = 2, TieWordEmbeddings = true, RopeThetaTopLevel = 10000, MaxPositionEmbeddings = 2048,
            EosTokenIdRaw = System.Text.Json.JsonSerializer.SerializeToElement(258), BosTokenId = 256,
        },
        "small" => new Qwen2Config
        {
            VocabSize = 320, HiddenSize = 256, IntermediateSize = 704, NumHiddenLayers = 4, NumAttentionHeads = 8,
            NumKeyValueHeads = 2, TieWordEmbeddings = true, RopeThetaTopLevel = 10000, MaxPositionEmbeddings = 4096,
            EosTokenIdRaw = System.Text.Json.JsonSerializer.SerializeToElement(258), BosTokenId = 256,
        },
        // The embedded default: 4.5M parameters (hidden 256, 6 layers, as the prototype's 256 x 6 char model that
        // reached 16% held-out success after 25M SFT tokens), byte-level vocabulary (256 bytes + Qwen's 3 special
        // tokens, padded to 320), GQA 8/4 heads of 32. Small enough for GRPO steps on 2 CPU cores.
        CountdownTiny => new Qwen2Config
        {
            VocabSize = 320, HiddenSize = 256, IntermediateSize = 704, NumHiddenLayers = 6, NumAttentionHeads = 8,
            NumKeyValueHeads = 4, TieWordEmbeddings = true, RopeThetaTopLevel = 10000, MaxPositionEmbeddings = 2048,
            EosTokenIdRaw = System.Text.Json.JsonSerializer.SerializeToElement(258), BosTokenId = 256, PadTokenId = 256,
        },
        _ => throw new ArgumentException($"unknown random model '{name}'; valid: random:tiny, random:small, random:{CountdownTiny}"),
    };
}
