using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Safetensors;

/// <summary>One tensor's entry in a safetensors header.</summary>
public sealed record SafetensorsEntry(string Name, ScalarType Dtype, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// Reads a .safetensors file: 8-byte little-endian header length, a JSON header, then the data. The header is
/// validated in full before any tensor is read; each tensor is read from disk straight into the memory of the
/// tensor that will hold it (no managed copy of the file or of the tensor).
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    public const long MaxHeaderBytes = 100L << 20;
    private const int ReadChunkBytes = 1 << 30;
    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;

    public SafetensorsFile(string path)
    {
        Path = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            var length = RandomAccess.GetLength(_handle);
            Span<byte> prefix = stackalloc byte[8];
            if (length < 8 || RandomAccess.Read(_handle, prefix, 0) != 8)
            {
                throw new InvalidDataException($"{path}: too short to be a safetensors file ({length} bytes)");
            }

            var headerLength = BitConverter.ToInt64(prefix);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > length - 8)
            {
                throw new InvalidDataException(
                    $"{path}: header length {headerLength} is invalid (file is {length} bytes, limit {MaxHeaderBytes})");
            }

            var header = new byte[headerLength];
            RandomAccess.Read(_handle, header, 8);
            _dataStart = 8 + headerLength;
            (Entries, Metadata) = SafetensorsHeader.Parse(header, length - _dataStart, path);
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads a tensor into CPU memory, then converts it to <paramref name="dtype"/> / moves it to <paramref name="device"/>.</summary>
    public Tensor Read(string name, Device? device = null, ScalarType? dtype = null)
    {
        if (!Entries.TryGetValue(name, out var entry))
        {
            throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");
        }

        var result = empty(entry.Shape, dtype: entry.Dtype, device: CPU);
        try
        {
            ReadInto(entry, result);
            if (dtype is { } wanted && wanted != entry.Dtype)
            {
                result = Replace(result, result.to(wanted));
            }

            if (device is not null && device.type != TorchSharp.DeviceType.CPU)
            {
                result = Replace(result, result.to(device));
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static Tensor Replace(Tensor old, Tensor next)
    {
        old.Dispose();
        return next;
    }

    /// <summary>Bytes per read; a tensor is read through views of at most this size (spans are int-sized).</summary>
    internal int ChunkBytes { get; init; } = ReadChunkBytes;

    private void ReadInto(SafetensorsEntry entry, Tensor destination)
    {
        if (entry.ByteLength == 0)
        {
            return;
        }

        var elementSize = (int)(entry.ByteLength / destination.numel());
        using var flat = destination.view(-1);
        var perChunk = Math.Max(1, ChunkBytes / elementSize);
        for (long start = 0; start < flat.shape[0]; start += perChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(perChunk, flat.shape[0] - start));
            var span = part.bytes;
            var offset = _dataStart + entry.Begin + (start * elementSize);
            for (var done = 0; done < span.Length;)
            {
                var read = RandomAccess.Read(_handle, span[done..], offset + done);
                if (read <= 0)
                {
                    throw new InvalidDataException($"{Path}: tensor '{entry.Name}' ends early (file truncated?)");
                }

                done += read;
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>Parses and checks a safetensors JSON header.</summary>
internal static class SafetensorsHeader
{
    public static (Dictionary<string, SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(
        byte[] header, long dataLength, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the header is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: the header must be a JSON object");
            }

            var entries = new Dictionary<string, SafetensorsEntry>();
            var metadata = new Dictionary<string, string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String ? item.Value.GetString()! : item.Value.GetRawText();
                    }

                    continue;
                }

                entries[property.Name] = ParseEntry(property, path);
            }

            CheckLayout(entries.Values, dataLength, path);
            return (entries, metadata);
        }
    }

    private static SafetensorsEntry ParseEntry(JsonProperty property, string path)
    {
        var where = $"{path}: tensor '{property.Name}'";
        try
        {
            var value = property.Value;
            var (dtype, size) = SafetensorsDtype.Parse(value.GetProperty("dtype").GetString() ?? string.Empty, where);
            var shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || shape.Any(d => d < 0))
            {
                throw new InvalidDataException($"{where}: data_offsets must be [begin, end] with 0 <= begin <= end, shape non-negative");
            }

            var expected = shape.Aggregate(1L, (a, d) => checked(a * d)) * size;
            if (offsets[1] - offsets[0] != expected)
            {
                throw new InvalidDataException(
                    $"{where}: {offsets[1] - offsets[0]} bytes for shape [{string.Join(", ", shape)}] of {value.GetProperty("dtype").GetString()} (expected {expected})");
            }

            return new SafetensorsEntry(property.Name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{where}: needs dtype, shape and data_offsets ({e.Message})", e);
        }
    }

    private static void CheckLayout(IEnumerable<SafetensorsEntry> entries, long dataLength, string path)
    {
        long previousEnd = 0;
        string? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.End > dataLength)
            {
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' ends at byte {entry.End} but the data holds {dataLength}");
            }

            if (entry.Begin < previousEnd)
            {
                throw new InvalidDataException($"{path}: tensors '{previous}' and '{entry.Name}' overlap");
            }

            (previousEnd, previous) = (entry.End, entry.Name);
        }
    }
}
