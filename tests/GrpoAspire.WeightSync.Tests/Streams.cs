using Google.Protobuf;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Qwen2;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>Streams as lists of messages that a test can tamper with, and the replica's side of a pull.</summary>
internal static class Streams
{
    /// <summary>The chunker's messages, cloned so a test may edit them.</summary>
    public static List<WeightChunk> Of(WeightSnapshot snapshot, int maxChunkBytes = WeightChunker.MaxChunkBytes) =>
        WeightChunker.Chunks(snapshot, maxChunkBytes).Select(c => c.Clone()).ToList();

    public static VerifiedWeights Assemble(
        IEnumerable<WeightChunk> chunks, WeightAssemblerOptions? options = null, long expectedVersion = 0)
    {
        var assembler = new WeightAssembler(options, expectedVersion);
        foreach (var chunk in chunks)
        {
            assembler.Add(chunk);
        }

        return assembler.Complete();
    }

    /// <summary>
    /// Assembling and applying the stream fails with a message holding every key phrase, and the target's
    /// weights are exactly what they were.
    /// </summary>
    public static WeightStreamException AssertRejected(
        nn.Module target, IEnumerable<WeightChunk> chunks, params string[] keyPhrases) =>
        AssertRejected(target, chunks, options: null, expectedVersion: 0, keyPhrases);

    public static WeightStreamException AssertRejected(
        nn.Module target, IEnumerable<WeightChunk> chunks, WeightAssemblerOptions? options, long expectedVersion,
        params string[] keyPhrases)
    {
        var before = WeightChecksum.Of(target);

        var error = Assert.Throws<WeightStreamException>(() =>
            WeightApplier.Apply(target, Assemble(chunks, options, expectedVersion)));

        foreach (var phrase in keyPhrases)
        {
            Assert.Contains(phrase, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(before, WeightChecksum.Of(target));
        return error;
    }

    /// <summary>
    /// Publishes <paramref name="trainer"/>'s weights as version 1, changes its embedding, publishes version 2, and
    /// returns version 1's checksum.
    /// </summary>
    public static string PublishTwoVersions(WeightStore store, Qwen2ForCausalLM trainer)
    {
        store.Publish(WeightSnapshot.Capture(trainer, version: 1));
        var first = WeightChecksum.Of(trainer);
        using (no_grad())
        {
            trainer.model.embed_tokens.weight.add_(1.0);
        }

        store.Publish(WeightSnapshot.Capture(trainer, version: 2));
        return first;
    }

    /// <summary>Indices in the stream of the chunks of one tensor.</summary>
    public static List<int> ChunksOf(List<WeightChunk> stream, int tensorIndex) =>
        Enumerable.Range(0, stream.Count)
            .Where(i => stream[i].KindCase == WeightChunk.KindOneofCase.Tensor && stream[i].Tensor.TensorIndex == tensorIndex)
            .ToList();

    public static WeightChunk Chunk(int tensorIndex, long offset, byte[] data) =>
        new() { Tensor = new TensorChunk { TensorIndex = tensorIndex, Offset = offset, Data = ByteString.CopyFrom(data) } };
}
