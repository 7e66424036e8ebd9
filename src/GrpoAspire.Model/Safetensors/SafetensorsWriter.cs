using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Safetensors;

/// <summary>
/// Writes safetensors files: tensors in name order, header padded with spaces to a multiple of 8 bytes (as the
/// Python library does), each tensor streamed from its own memory in chunks, never gathered into one buffer.
/// Sharded folders get <c>model-0000k-of-0000n.safetensors</c> and <c>model.safetensors.index.json</c>.
/// </summary>
public static class SafetensorsWriter
{
    private const int WriteChunkBytes = 64 << 20;

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.OrderBy(t => t.Key, StringComparer.Ordinal).ToArray();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 })
        {
            header["__metadata__"] = metadata;
        }

        long offset = 0;
        foreach (var (name, tensor) in ordered)
        {
            var bytes = tensor.numel() * SafetensorsDtype.SizeOf(tensor.dtype);
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = SafetensorsDtype.NameOf(tensor.dtype),
                ["shape"] = tensor.shape,
                ["data_offsets"] = new[] { offset, offset + bytes },
            };
            offset += bytes;
        }

        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var padded = (json.Length + 7) / 8 * 8;
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(BitConverter.GetBytes((long)padded));
            stream.Write(json);
            stream.Write(Encoding.ASCII.GetBytes(new string(' ', padded - json.Length)));
            foreach (var (_, tensor) in ordered)
            {
                WriteTensor(stream, tensor);
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static void WriteTensor(Stream stream, Tensor tensor)
    {
        if (tensor.numel() == 0)
        {
            return;
        }

        using var scope = NewDisposeScope();
        var flat = tensor.detach().contiguous().cpu().view(-1);
        var perChunk = Math.Max(1, WriteChunkBytes / SafetensorsDtype.SizeOf(tensor.dtype));
        for (long start = 0; start < flat.shape[0]; start += perChunk)
        {
            var part = flat.narrow(0, start, Math.Min(perChunk, flat.shape[0] - start));
            stream.Write(part.bytes);
        }
    }

    /// <summary>Writes one file when the tensors fit in <paramref name="maxShardBytes"/>, else shards and an index.</summary>
    public static IReadOnlyList<string> WriteModel(
        string folder, IReadOnlyDictionary<string, Tensor> tensors, long maxShardBytes = 5L << 30,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(folder);
        metadata ??= new Dictionary<string, string> { ["format"] = "pt" };
        var shards = new List<Dictionary<string, Tensor>> { new() };
        long current = 0, total = 0;
        foreach (var (name, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var bytes = tensor.numel() * SafetensorsDtype.SizeOf(tensor.dtype);
            if (current > 0 && current + bytes > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }

            shards[^1][name] = tensor;
            current += bytes;
            total += bytes;
        }

        if (shards.Count == 1)
        {
            Write(Path.Combine(folder, SafetensorsIndex.SingleFileName), shards[0], metadata);
            return [SafetensorsIndex.SingleFileName];
        }

        var names = shards.Select((_, i) => $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors").ToArray();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            Write(Path.Combine(folder, names[i]), shards[i], metadata);
            foreach (var name in shards[i].Keys)
            {
                weightMap[name] = names[i];
            }
        }

        var index = new Dictionary<string, object>
        {
            ["metadata"] = new Dictionary<string, object> { ["total_size"] = total },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(folder, SafetensorsIndex.IndexFileName), JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true }));
        return names;
    }
}
