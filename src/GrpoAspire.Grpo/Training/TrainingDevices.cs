using GrpoAspire.Grpo.Recipes;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// The devices a run trains on: the recipe's <c>device</c> alone, or its <c>data_parallel_devices</c>, one policy
/// replica per entry. The first entry is the master replica (generation, optimizer, checkpoints), so it must be the
/// recipe's <c>device</c>. A CUDA device may appear once (<c>cuda</c> is <c>cuda:0</c>); <c>cpu</c> may repeat:
/// several CPU replicas exist to check the gradient reduction against one replica, not to be faster.
/// </summary>
public static class TrainingDevices
{
    /// <summary>
    /// Checks the names without touching libtorch (a dry run needs no GPU) and returns them normalized
    /// (<c>cpu</c>, <c>cuda:N</c>); throws <see cref="ArgumentException"/> naming the bad entry.
    /// </summary>
    public static IReadOnlyList<string> Normalize(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
        {
            throw new ArgumentException("at least one device is needed, e.g. cuda:0,cuda:1,cuda:2");
        }

        var normalized = names.Select(NormalizeOne).ToArray();
        var duplicate = normalized.Where(n => n != "cpu").GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException(
                $"{duplicate.Key} appears {duplicate.Count()} times in [{string.Join(", ", names)}]; each GPU holds one replica");
        }

        if (normalized.Distinct().Count() > 1 && normalized.Contains("cpu"))
        {
            throw new ArgumentException(
                $"[{string.Join(", ", names)}] mixes cpu and cuda; replicas must be alike (all cuda:N, or all cpu)");
        }

        return normalized;
    }

    /// <summary>
    /// The devices of <paramref name="recipe"/>'s replicas, master first, checked against this libtorch (CUDA
    /// present, index in range); throws <see cref="ArgumentException"/> with the reason.
    /// </summary>
    public static IReadOnlyList<Device> Resolve(GrpoRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        if (recipe.DataParallelDevices.Count == 0)
        {
            return [Model.TorchRuntime.ParseDevice(recipe.Device)];
        }

        var names = Normalize(recipe.DataParallelDevices);
        RequireMaster(recipe.Device, names);
        return names.Select(Model.TorchRuntime.ParseDevice).ToArray();
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="device"/> names the first of <paramref name="names"/>
    /// (normalized): the first replica generates, steps the optimizer and is checkpointed, on the recipe's device.
    /// </summary>
    public static void RequireMaster(string device, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (NormalizeOne(device) != names[0])
        {
            throw new ArgumentException(
                $"device {device} is not the first of data_parallel_devices [{string.Join(", ", names)}]: the first "
                + "replica generates, steps the optimizer and is checkpointed, so it runs on the recipe's device; "
                + "leave device out or make it the first entry");
        }
    }

    private static string NormalizeOne(string name)
    {
        var value = (name ?? string.Empty).Trim().ToLowerInvariant();
        if (value == "cpu")
        {
            return value;
        }

        if (value == "cuda")
        {
            return "cuda:0";
        }

        if (value.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(value[5..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
        {
            return $"cuda:{index}";
        }

        throw new ArgumentException($"unknown device '{name}'; valid: cpu, cuda, cuda:N");
    }
}
