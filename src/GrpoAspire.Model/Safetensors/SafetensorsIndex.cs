using System.Text.Json;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Safetensors;

/// <summary>Hugging Face model folders: a single <c>model.safetensors</c> or shards listed in an index.</summary>
public static class SafetensorsIndex
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>The safetensors files of a folder (or the file itself), in a stable order.</summary>
    public static IReadOnlyList<string> Files(string folderOrFile)
    {
        if (File.Exists(folderOrFile))
        {
            return [folderOrFile];
        }

        var index = Path.Combine(folderOrFile, IndexFileName);
        if (File.Exists(index))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(index));
            if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{index}: needs a \"weight_map\" object of tensor name -> file");
            }

            var files = map.EnumerateObject().Select(p => p.Value.GetString() ?? string.Empty).Distinct().Order(StringComparer.Ordinal).ToArray();
            foreach (var file in files)
            {
                if (file.Contains('/', StringComparison.Ordinal) || file.Contains('\\', StringComparison.Ordinal) || file.StartsWith('.'))
                {
                    throw new InvalidDataException($"{index}: shard name '{file}' must be a plain file name");
                }
            }

            return files.Select(f => Path.Combine(folderOrFile, f)).ToArray();
        }

        var single = Path.Combine(folderOrFile, SingleFileName);
        if (File.Exists(single))
        {
            return [single];
        }

        throw new FileNotFoundException($"no {SingleFileName} or {IndexFileName} in '{folderOrFile}'");
    }

    /// <summary>Yields every tensor of a folder or file one at a time; the caller owns (and disposes) each.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> ReadAll(string folderOrFile, Device? device = null, ScalarType? dtype = null)
    {
        foreach (var path in Files(folderOrFile))
        {
            using var file = new SafetensorsFile(path);
            foreach (var name in file.Entries.Keys.Order(StringComparer.Ordinal))
            {
                yield return (name, file.Read(name, device, dtype));
            }
        }
    }

    /// <summary>All tensors of a folder or file in a dictionary.</summary>
    public static Dictionary<string, Tensor> LoadStateDict(string folderOrFile, Device? device = null, ScalarType? dtype = null) =>
        ReadAll(folderOrFile, device, dtype).ToDictionary(t => t.Name, t => t.Tensor);
}
