using Google.Protobuf;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.WeightSync;

/// <summary>
/// Cuts a snapshot into the messages of the <c>GetWeights</c> stream: the manifest, then each tensor's bytes in
/// manifest order. Chunks are views of the snapshot's memory (no copy), which is safe because snapshots are immutable.
/// </summary>
public static class WeightChunker
{
    /// <summary>
    /// Largest chunk the protocol allows (1 MiB): well under gRPC's default 4 MB message limit, and small enough that
    /// HTTP/2 flow control interleaves the stream with other calls.
    /// </summary>
    public const int MaxChunkBytes = 1 << 20;

    /// <summary>The largest message a weights stream carries: one chunk of <see cref="MaxChunkBytes"/> plus framing (what a client must accept).</summary>
    public const int MaxMessageBytes = MaxChunkBytes + (64 * 1024);

    /// <summary>
    /// The manifest, then chunks of at most <paramref name="maxChunkBytes"/> bytes: of every tensor, or with
    /// <paramref name="shards"/> &gt; 1 of the tensors <see cref="WeightShards.Assign"/> deals to <paramref name="shard"/>.
    /// </summary>
    public static IEnumerable<WeightChunk> Chunks(WeightSnapshot snapshot, int maxChunkBytes = MaxChunkBytes, int shard = 0, int shards = 1)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunkBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxChunkBytes, MaxChunkBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, shards);
        var assigned = WeightShards.Assign([.. snapshot.Tensors.Select(t => t.ByteLength)], shards);
        return Iterate(snapshot, maxChunkBytes, index => assigned[index] == shard);
    }

    /// <summary>What the stream will carry: names, dtypes, shapes, lengths and digests of every tensor.</summary>
    public static WeightManifest Manifest(WeightSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var manifest = new WeightManifest { Version = snapshot.Version, TotalBytes = snapshot.TotalBytes };
        foreach (var tensor in snapshot.Tensors)
        {
            var info = new TensorInfo
            {
                Name = tensor.Name,
                Dtype = tensor.Dtype,
                ByteLength = tensor.ByteLength,
                Digest = ByteString.CopyFrom(tensor.Digest.AsSpan()),
            };
            info.Shape.Add(tensor.Shape);
            manifest.Tensors.Add(info);
        }

        return manifest;
    }

    private static IEnumerable<WeightChunk> Iterate(WeightSnapshot snapshot, int maxChunkBytes, Func<int, bool> sends)
    {
        yield return new WeightChunk { Manifest = Manifest(snapshot) };
        for (var index = 0; index < snapshot.Tensors.Count; index++)
        {
            if (!sends(index))
            {
                continue;
            }

            var data = snapshot.Tensors[index].Data;
            for (long offset = 0; offset < data.Length; offset += maxChunkBytes)
            {
                var count = (int)Math.Min(maxChunkBytes, data.Length - offset);
                yield return new WeightChunk
                {
                    Tensor = new TensorChunk
                    {
                        TensorIndex = index,
                        Offset = offset,
                        Data = UnsafeByteOperations.UnsafeWrap(data.Slice(offset, count)),
                    },
                };
            }
        }
    }
}
