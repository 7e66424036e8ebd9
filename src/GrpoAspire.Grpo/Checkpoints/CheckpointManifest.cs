using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpoAspire.Grpo.Checkpoints;

/// <summary>One file of a checkpoint as it was written: its name in the folder, its size in bytes and its SHA-256 (hex).</summary>
public sealed record ManifestEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("sha256")] string Sha256);

/// <summary>
/// The list of a checkpoint's files (<see cref="FileName"/>), written last, just before the folder is published, so a
/// checkpoint whose files were cut short, truncated or changed afterwards is caught on load with the file named, instead
/// of failing somewhere inside a reader. Hashes are streamed in 1 MiB blocks: a 3B checkpoint is never read into memory.
/// </summary>
public static class CheckpointManifest
{
    public const string FileName = "checkpoint_manifest.json";

    private const int BlockSize = 1 << 20;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Lists every file of <paramref name="folder"/> (a flat folder, as checkpoints are) in the manifest, flushed to disk.</summary>
    public static IReadOnlyList<ManifestEntry> Write(string folder)
    {
        var entries = Directory.GetFiles(folder)
            .Select(Path.GetFileName)
            .Where(name => name != FileName)
            .Order(StringComparer.Ordinal)
            .Select(name => new ManifestEntry(name!, new FileInfo(Path.Combine(folder, name!)).Length, Hash(Path.Combine(folder, name!))))
            .ToArray();
        using var stream = new FileStream(Path.Combine(folder, FileName), FileMode.Create, FileAccess.Write, FileShare.None);
        JsonSerializer.Serialize(stream, new ManifestFile(1, entries), Json);
        stream.Flush(flushToDisk: true);
        return entries;
    }

    /// <summary>Whether <paramref name="folder"/> has a manifest (checkpoints written before manifests do not).</summary>
    public static bool Exists(string folder) => File.Exists(Path.Combine(folder, FileName));

    /// <summary>
    /// Checks every file the manifest lists: present, of its size, of its hash. Throws a <see cref="CheckpointCorruptException"/>
    /// naming the first bad file as <c>checkpoint-N/file</c>; files the manifest does not list are not checked.
    /// </summary>
    public static IReadOnlyList<ManifestEntry> Verify(string folder)
    {
        var entries = Read(folder);
        foreach (var entry in entries)
        {
            var path = Path.Combine(folder, entry.Name);
            var file = new FileInfo(path);
            if (!file.Exists)
            {
                throw new CheckpointCorruptException(folder, entry.Name, "missing, the manifest lists it");
            }

            if (file.Length != entry.Size)
            {
                throw new CheckpointCorruptException(folder, entry.Name, $"{file.Length} bytes, the manifest says {entry.Size}");
            }

            if (!string.Equals(Hash(path), entry.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new CheckpointCorruptException(folder, entry.Name, "its SHA-256 differs from the manifest's (the content changed after it was saved)");
            }
        }

        return entries;
    }

    /// <summary>The manifest's entries; a manifest that does not parse, or names files outside the folder, is itself corrupt.</summary>
    public static IReadOnlyList<ManifestEntry> Read(string folder)
    {
        ManifestFile? manifest;
        try
        {
            using var stream = File.OpenRead(Path.Combine(folder, FileName));
            manifest = JsonSerializer.Deserialize<ManifestFile>(stream);
        }
        catch (JsonException e)
        {
            throw new CheckpointCorruptException(folder, FileName, $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }

        if (manifest?.Files is not { } files || files.Any(f => f?.Name is null || f.Sha256 is null || Path.GetFileName(f.Name) != f.Name || f.Size < 0))
        {
            throw new CheckpointCorruptException(folder, FileName, "needs a \"files\" list of plain file names with their size and sha256");
        }

        return files;
    }

    /// <summary>SHA-256 of a file as lowercase hex, read in blocks.</summary>
    public static string Hash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BlockSize, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private sealed record ManifestFile(
        [property: JsonPropertyName("version")] int Version,
        [property: JsonPropertyName("files")] ManifestEntry[]? Files);
}
