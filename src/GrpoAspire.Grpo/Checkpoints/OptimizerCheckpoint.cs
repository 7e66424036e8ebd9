using System.Text.Json;
using System.Text.Json.Serialization;
using GrpoAspire.Grpo.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Checkpoints;

/// <summary>One parameter of an optimizer state's flat layout, as saved beside <c>optimizer.bin</c>.</summary>
public sealed record SavedSlice([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("shape")] long[] Shape);

/// <summary>
/// The optimizer's state in a checkpoint: <c>optimizer.bin</c> (TorchSharp's format: one AdamW state over the flat
/// parameter) and <see cref="LayoutFileName"/>, the names and shapes in the flat order, so that the moments still land on
/// the right parameters when a later build binds them in another order. Checkpoints from before the flat buffers hold one
/// AdamW state per parameter, in registration order, and no layout: those are converted on load (the same moments and
/// step count, moved into their slices), so old runs resume.
/// </summary>
public static class OptimizerCheckpoint
{
    public const string LayoutFileName = "optimizer_layout.json";

    private static readonly JsonSerializerOptions LayoutJson = new() { WriteIndented = true };

    public static void Save(OptimizerHelper optimizer, FlatParameters layout, string folder)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(layout);
        optimizer.save_state_dict(Path.Combine(folder, CheckpointFolders.OptimizerFileName));
        var slices = layout.Slices.Select(s => new SavedSlice(s.Name, s.Shape)).ToArray();
        File.WriteAllText(Path.Combine(folder, LayoutFileName), JsonSerializer.Serialize(slices, LayoutJson));
    }

    /// <summary>
    /// Loads <paramref name="folder"/>'s optimizer state into <paramref name="optimizer"/>, an optimizer over the one flat
    /// parameter of <paramref name="layout"/> (or of masters laid out like it).
    /// </summary>
    /// <param name="legacyOrder">Parameter names in the order a checkpoint without a layout file holds its per-parameter
    /// states: the policy's trainable parameters in registration order.</param>
    public static void Load(OptimizerHelper optimizer, FlatParameters layout, string folder, IReadOnlyList<string> legacyOrder)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(legacyOrder);
        try
        {
            LoadChecked(optimizer, layout, folder, legacyOrder);
        }
        catch (EndOfStreamException e)
        {
            // A checkpoint without a manifest can hold a truncated state; with one, the size check catches it first.
            throw new CheckpointCorruptException(folder, CheckpointFolders.OptimizerFileName, "ends early (truncated?)", e);
        }
        catch (JsonException e)
        {
            throw new CheckpointCorruptException(folder, LayoutFileName, $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})", e);
        }
    }

    private static void LoadChecked(OptimizerHelper optimizer, FlatParameters layout, string folder, IReadOnlyList<string> legacyOrder)
    {
        var path = Path.Combine(folder, CheckpointFolders.OptimizerFileName);
        var layoutPath = Path.Combine(folder, LayoutFileName);
        SavedSlice[][] saved;
        if (File.Exists(layoutPath))
        {
            var slices = JsonSerializer.Deserialize<SavedSlice[]>(File.ReadAllText(layoutPath)) ?? throw new CheckpointCorruptException(folder, LayoutFileName, "null instead of a layout");
            if (slices.Select(s => (s.Name, string.Join(',', s.Shape))).SequenceEqual(layout.Slices.Select(s => (s.Name, string.Join(',', s.Shape)))))
            {
                optimizer.load_state_dict(path); // the same layout: TorchSharp's own load
                return;
            }

            saved = [slices];
        }
        else
        {
            saved = legacyOrder.Select(name => new[] { new SavedSlice(name, (layout.Find(name) ?? Missing(name)).Shape) }).ToArray();
        }

        Remap(optimizer, layout, path, saved);
        FlatSlice Missing(string name) => throw new ArgumentException($"'{name}' of the legacy order is not in the flat buffer", nameof(legacyOrder));
    }

    /// <summary>Reads AdamW states laid out as <paramref name="saved"/> (one slice list per state) into the flat state, by name.</summary>
    private static void Remap(OptimizerHelper optimizer, FlatParameters layout, string path, SavedSlice[][] saved)
    {
        var state = optimizer.state_dict();
        if (state.State is not [AdamW.State target] || state.Options.Count != 1)
        {
            throw new NotSupportedException($"{path}: converting optimizer state needs one AdamW over one flat parameter");
        }

        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        var type = reader.ReadString();
        var groups = ReadCount(reader);
        var states = ReadCount(reader);
        if (type != nameof(AdamW) || groups != 1 || states != saved.Length)
        {
            throw new InvalidDataException(
                $"{path} holds {type} with {groups} parameter group(s) and {states} parameter state(s); resuming needs AdamW with 1 group "
                + $"and {saved.Length} state(s) ({(saved.Length == 1 ? "one flat state, as the layout file says" : "one per trainable parameter, as checkpoints written before the flat buffers")})");
        }

        state.Options[0].LoadStateDict(reader);
        var covered = new HashSet<string>(StringComparer.Ordinal);
        long? step = null;
        using var noGrad = no_grad();
        foreach (var slices in saved)
        {
            var count = reader.ReadInt64();
            if (step is { } first && first != count)
            {
                throw new InvalidDataException($"{path}: parameters were stepped {first} and {count} times; a flat state has one step count");
            }

            step = count;
            using var expAvg = TensorExtensionMethods.Load(reader);
            using var expAvgSq = TensorExtensionMethods.Load(reader);
            if (reader.ReadBoolean())
            {
                throw new NotSupportedException($"{path}: AMSGrad state (max_exp_avg_sq) is not converted");
            }

            CopyInto(target, layout, path, slices, expAvg, expAvgSq, covered);
        }

        if (layout.Slices.FirstOrDefault(s => !covered.Contains(s.Name)) is { } uncovered)
        {
            throw new InvalidDataException($"{path} has no optimizer state for '{uncovered.Name}'");
        }

        target.step = step ?? 0;
    }

    private static void CopyInto(
        AdamW.State target, FlatParameters layout, string path, SavedSlice[] slices, Tensor expAvg, Tensor expAvgSq, HashSet<string> covered)
    {
        using var scope = NewDisposeScope();
        var (sourceAvg, sourceSq) = (expAvg.view(-1), expAvgSq.view(-1));
        long offset = 0;
        foreach (var slice in slices)
        {
            var place = layout.Find(slice.Name) ?? throw new InvalidDataException($"{path}: '{slice.Name}' is not a trainable parameter of this model");
            if (!place.Shape.SequenceEqual(slice.Shape) || !covered.Add(slice.Name))
            {
                throw new InvalidDataException(
                    $"{path}: '{slice.Name}' is [{string.Join(", ", slice.Shape)}] there (or appears twice), [{string.Join(", ", place.Shape)}] in the model");
            }

            target.exp_avg.narrow(0, place.Offset, place.Count).copy_(sourceAvg.narrow(0, offset, place.Count));
            target.exp_avg_sq.narrow(0, place.Offset, place.Count).copy_(sourceSq.narrow(0, offset, place.Count));
            offset += place.Count;
        }

        if (offset != sourceAvg.shape[0])
        {
            throw new InvalidDataException($"{path}: a state of {sourceAvg.shape[0]} elements for parameters of {offset}");
        }
    }

    /// <summary>TorchSharp's LEB128 counts (its codec is internal).</summary>
    private static long ReadCount(BinaryReader reader)
    {
        long result = 0;
        for (var shift = 0; ; shift += 7)
        {
            long b = reader.ReadByte();
            result |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
    }
}
