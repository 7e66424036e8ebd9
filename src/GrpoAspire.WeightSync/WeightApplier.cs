using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync;

/// <summary>
/// Swaps a verified weights version into a live model, in place: the parameters keep their identity, device and
/// dtype, so optimizers, KV-cache owners and anything else holding them see the new values.
/// </summary>
public static class WeightApplier
{
    /// <summary>Most names listed per kind of mismatch in a message.</summary>
    private const int MaxListed = 10;

    /// <summary>
    /// Checks that <paramref name="weights"/> has exactly the model's tensors (names, shapes, dtypes) before touching
    /// anything, then copies each into its parameter or buffer. Call it between batches, never during a forward.
    /// </summary>
    /// <returns>The version now in the model.</returns>
    /// <exception cref="WeightStreamException">The weights do not fit the model; the model is unchanged.</exception>
    public static long Apply(nn.Module model, VerifiedWeights weights) => Apply(model, weights, staging: null);

    /// <summary>
    /// Apply, through <paramref name="staging"/> when given (what a GPU model always takes, with its own cached
    /// staging); internal so CPU tests run the staged path too.
    /// </summary>
    internal static long Apply(nn.Module model, VerifiedWeights weights, HostStaging? staging)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        var named = ModelTensors.Named(model).ToArray();
        var live = named.ToDictionary(t => t.Name, t => t.Tensor, StringComparer.Ordinal);
        CheckFits(live, weights);

        using var noGrad = no_grad();
        if (staging is null && named.Any(t => t.Tensor.device_type != DeviceType.CPU))
        {
            staging = HostStaging.For(model, named);
        }

        if (staging is not null)
        {
            ApplyStaged(named, weights, staging);
            return weights.Version;
        }

        foreach (var tensor in weights.Tensors)
        {
            var target = live[tensor.Name];
            if (target.is_contiguous())
            {
                // Straight into the live tensor's memory: everything was checked above, so nothing can fail halfway.
                ModelTensors.WriteBytes(tensor.Data, target);
                continue;
            }

            // One tensor's host copy at a time, freed before the next.
            using var scope = NewDisposeScope();
            var host = empty([.. tensor.Shape], dtype: tensor.ScalarType, device: CPU);
            ModelTensors.WriteBytes(tensor.Data, host);
            target.copy_(host);
        }

        return weights.Version;
    }

    /// <summary>
    /// Fill the (page-locked) staging from the verified bytes on every core, then queue one host-to-device copy per
    /// tensor and wait for them once. The previous path, a pageable host tensor and a blocking copy per tensor, took
    /// 0.40 s of a 0.5B sync on an H200.
    /// </summary>
    private static void ApplyStaged((string Name, Tensor Tensor)[] named, VerifiedWeights weights, HostStaging staging)
    {
        // Slot i is named[i]'s; CheckFits made sure the weights hold exactly those names.
        var slotOf = named.Select((t, index) => (t.Name, index)).ToDictionary(p => p.Name, p => p.index, StringComparer.Ordinal);
        staging.Use(named, slots =>
        {
            Parallel.ForEach(weights.Tensors, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, tensor =>
                ModelTensors.WriteBytes(tensor.Data, slots[slotOf[tensor.Name]]));
            foreach (var tensor in weights.Tensors)
            {
                var slot = slotOf[tensor.Name];
                named[slot].Tensor.copy_(slots[slot], nonBlocking: staging.Pinned);
            }

            // The slots are reused by the next sync, and the caller expects the model updated on return.
            HostStaging.WaitForDevicesOf(named.Select(t => t.Tensor));
        });
    }

    private static void CheckFits(Dictionary<string, Tensor> live, VerifiedWeights weights)
    {
        var incoming = weights.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        AddList(problems, "missing from the weights", live.Keys.Where(n => !incoming.Contains(n)).ToList());
        AddList(problems, "not in the model", weights.Tensors.Where(t => !live.ContainsKey(t.Name)).Select(t => t.Name).ToList());

        var shapes = new List<string>();
        var dtypes = new List<string>();
        foreach (var tensor in weights.Tensors)
        {
            if (!live.TryGetValue(tensor.Name, out var target))
            {
                continue;
            }

            if (!target.shape.AsSpan().SequenceEqual(tensor.Shape.AsSpan()))
            {
                shapes.Add($"'{tensor.Name}' is {tensor.ShapeText}, the model's is {Shapes.Format(target.shape)}");
            }

            if (target.dtype != tensor.ScalarType)
            {
                dtypes.Add($"'{tensor.Name}' is {tensor.Dtype}, the model's is {target.dtype}");
            }
        }

        AddList(problems, "shape mismatch", shapes);
        AddList(problems, "dtype mismatch", dtypes);
        if (problems.Count > 0)
        {
            throw new WeightStreamException(
                $"weights version {weights.Version} do not fit the model, which was left unchanged: {string.Join("; ", problems)}");
        }
    }

    private static void AddList(List<string> problems, string title, IReadOnlyList<string> items)
    {
        if (items.Count > 0)
        {
            var more = items.Count > MaxListed ? $", and {items.Count - MaxListed} more" : string.Empty;
            problems.Add($"{title} ({items.Count}): {string.Join(", ", items.Take(MaxListed))}{more}");
        }
    }
}
