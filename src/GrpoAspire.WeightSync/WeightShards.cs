namespace GrpoAspire.WeightSync;

/// <summary>
/// How a pull split over several streams divides a version's tensors (<c>GetWeightsRequest.shards</c>): largest first,
/// each to the shard with the fewest bytes so far (ties: the lower tensor index, then the lower shard). Trainer and
/// replica both compute it from the manifest, so the request names a shard and nothing else. Whole tensors only: a
/// Qwen2.5-0.5B embedding is 27% of the version, so up to 3 shards stay within a few percent of an even split.
/// </summary>
public static class WeightShards
{
    /// <summary>Most shards a pull may use.</summary>
    public const int MaxShards = 64;

    /// <summary>The shard of each tensor, in manifest order.</summary>
    public static int[] Assign(IReadOnlyList<long> byteLengths, int shards)
    {
        ArgumentNullException.ThrowIfNull(byteLengths);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shards, MaxShards);
        if (shards == 1)
        {
            return new int[byteLengths.Count]; // every pull that is not split: no dealing to do
        }

        var order = Enumerable.Range(0, byteLengths.Count).OrderByDescending(i => byteLengths[i]).ThenBy(i => i);
        var loads = new long[shards];
        var assigned = new int[byteLengths.Count];
        foreach (var tensor in order)
        {
            var lightest = 0;
            for (var shard = 1; shard < shards; shard++)
            {
                if (loads[shard] < loads[lightest])
                {
                    lightest = shard;
                }
            }

            assigned[tensor] = lightest;
            loads[lightest] += byteLengths[tensor];
        }

        return assigned;
    }
}
