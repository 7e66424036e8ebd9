using System.Text.Json;
using System.Text.Json.Nodes;
using GrpoAspire.Model.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>Loads and saves Hugging Face model folders (config.json, safetensors, tokenizer files).</summary>
public static class Qwen2Checkpoint
{
    /// <summary>Tokenizer and generation files copied along with a saved model.</summary>
    public static readonly string[] CompanionFiles =
        ["tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json", "generation_config.json"];

    /// <summary>
    /// Builds the model from <c>config.json</c> and copies every tensor into its parameter, converting dtype
    /// on the fly (one tensor in memory at a time besides the model). Missing, unexpected or mis-shaped
    /// tensors fail with their names.
    /// </summary>
    public static Qwen2ForCausalLM Load(string folder, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var config = Qwen2Config.Load(folder);
        device ??= CPU;
        var model = new Qwen2ForCausalLM(config, device, dtype);
        try
        {
            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var loaded = new HashSet<string>();
            using (no_grad())
            {
                foreach (var (name, tensor) in SafetensorsIndex.ReadAll(folder))
                {
                    using (tensor)
                    {
                        if (config.TieWordEmbeddings && name == "lm_head.weight")
                        {
                            continue; // tied: the output projection is the embedding
                        }

                        if (!parameters.TryGetValue(name, out var parameter))
                        {
                            throw new InvalidDataException($"{folder}: unexpected tensor '{name}' for a Qwen2 model");
                        }

                        if (!parameter.shape.SequenceEqual(tensor.shape))
                        {
                            throw new InvalidDataException(
                                $"{folder}: '{name}' has shape [{string.Join(", ", tensor.shape)}], the config needs [{string.Join(", ", parameter.shape)}]");
                        }

                        parameter.copy_(tensor);
                        loaded.Add(name);
                    }
                }
            }

            var missing = parameters.Keys.Where(n => !loaded.Contains(n)).ToArray();
            if (missing.Length > 0)
            {
                throw new InvalidDataException($"{folder}: missing tensors: {string.Join(", ", missing.Take(10))}{(missing.Length > 10 ? ", ..." : string.Empty)}");
            }

            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Saves a folder transformers and vLLM load: config.json (dtype set to <paramref name="dtype"/>),
    /// model.safetensors (sharded past 5 GB; no lm_head when tied), and tokenizer files from <paramref name="companionsFrom"/>.
    /// </summary>
    public static void Save(Qwen2ForCausalLM model, string folder, ScalarType? dtype = null, string? companionsFrom = null)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var value = parameter.detach();
            tensors[name] = dtype is { } d && d != value.dtype ? value.to(d) : value;
        }

        var savedType = dtype ?? model.OutputWeight.dtype;
        SafetensorsWriter.WriteModel(folder, tensors);
        File.WriteAllText(Path.Combine(folder, "config.json"), ConfigJson(model.Config, savedType));
        if (companionsFrom is not null && Path.GetFullPath(companionsFrom) != Path.GetFullPath(folder))
        {
            foreach (var file in CompanionFiles)
            {
                var source = Path.Combine(companionsFrom, file);
                if (File.Exists(source))
                {
                    File.Copy(source, Path.Combine(folder, file), overwrite: true);
                }
            }
        }
    }

    private static string ConfigJson(Qwen2Config config, ScalarType dtype)
    {
        var node = JsonNode.Parse(JsonSerializer.Serialize(config))!.AsObject();
        var dtypeName = dtype switch
        {
            ScalarType.BFloat16 => "bfloat16",
            ScalarType.Float16 => "float16",
            _ => "float32",
        };
        // Both spellings, so transformers 4 and 5 (and vLLM) read the same thing.
        node["torch_dtype"] = dtypeName;
        node["dtype"] = dtypeName;
        node["rope_theta"] = config.RopeTheta;
        node["architectures"] = new JsonArray("Qwen2ForCausalLM");
        foreach (var key in node.Where(p => p.Value is null).Select(p => p.Key).ToArray())
        {
            node.Remove(key);
        }

        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
