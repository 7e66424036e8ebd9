using System.Buffers;
using System.Collections.Immutable;
using GrpoAspire.Contracts.V1;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync;

/// <summary>
/// Rebuilds a weights version from the messages of a <c>GetWeights</c> stream, one at a time, and checks everything:
/// the manifest against <see cref="WeightAssemblerOptions"/> before any tensor memory is allocated, each chunk's
/// place, order and size as it arrives, each tensor's digest (XXH128) as soon as its last byte is in, and at
/// <see cref="Complete"/> that nothing is missing. The first violation throws <see cref="WeightStreamException"/>
/// and poisons the assembler. Tensors of at least <see cref="BackgroundHashBytes"/> are hashed on the thread pool
/// while the next ones arrive (hashing is most of the replica's work); a mismatch there fails the next
/// <see cref="Add"/> or <see cref="Complete"/>, which also waits for every hash. A tensor's buffer is allocated when its first chunk arrives, so memory grows with
/// what was received, not with what was announced. Not thread-safe: one stream, one reader.
/// </summary>
public sealed class WeightAssembler
{
    /// <summary>Longest name quoted back in a message, so a hostile name cannot bloat the error.</summary>
    private const int MaxQuotedNameLength = 200;

    /// <summary>Bytes of a tensor digest (<see cref="TensorBytes.Digest"/>).</summary>
    private const int DigestBytes = 16;

    /// <summary>Tensors this large or larger are verified in the background; smaller ones at once.</summary>
    internal const long BackgroundHashBytes = 1 << 20;

    private readonly WeightAssemblerOptions _options;
    private readonly long _expectedVersion;
    private readonly int _shard;
    private readonly int _shards;
    private readonly List<Task<WeightStreamException?>> _verifications = [];
    private long _version;
    private Expected[]? _expected;
    private TensorBytes?[] _buffers = [];
    private long[] _received = [];
    private int _current;

    /// <summary>Per tensor: whether this assembler's stream carries it (all, unless the pull is split over shards).</summary>
    private bool[] _carried = [];
    private long _messages;
    private WeightStreamException? _failure;
    private bool _completed;
    private volatile WeightStreamException? _backgroundFailure;

    /// <param name="options">Limits; null for the defaults.</param>
    /// <param name="expectedVersion">The version asked for, which the manifest must carry; 0 accepts any (a request for the latest).</param>
    public WeightAssembler(WeightAssemblerOptions? options = null, long expectedVersion = 0)
        : this(options, expectedVersion, shard: 0, shards: 1)
    {
    }

    /// <summary>
    /// The assembler of shard <paramref name="shard"/> of a pull split over <paramref name="shards"/> streams: its
    /// stream carries the whole manifest and the tensors <see cref="WeightShards.Assign"/> deals to that shard, and
    /// <see cref="Combine"/> joins the shards' assemblers into the version.
    /// </summary>
    internal WeightAssembler(WeightAssemblerOptions? options, long expectedVersion, int shard, int shards)
    {
        _options = options ?? new WeightAssemblerOptions();
        _options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shards, WeightShards.MaxShards);
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, shards);
        _expectedVersion = expectedVersion;
        _shard = shard;
        _shards = shards;
    }

    /// <summary>Tensor bytes received so far (for progress reports).</summary>
    public long BytesReceived { get; private set; }

    /// <summary>The manifest's total, once it arrived.</summary>
    public long? TotalBytes { get; private set; }

    /// <summary>Takes the next message of the stream.</summary>
    public void Add(WeightChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        Guard();
        try
        {
            NextMessage();
            switch (chunk.KindCase)
            {
                case WeightChunk.KindOneofCase.Manifest:
                    AcceptManifest(chunk.Manifest);
                    break;
                case WeightChunk.KindOneofCase.Tensor:
                    AcceptChunk(chunk.Tensor.TensorIndex, chunk.Tensor.Offset, new ReadOnlySequence<byte>(chunk.Tensor.Data.Memory));
                    break;
                default:
                    throw Fail($"message {_messages} carries neither a manifest nor a tensor chunk");
            }
        }
        catch (WeightStreamException e)
        {
            Poison(e);
            throw;
        }
    }

    /// <summary>
    /// Takes the next message of the stream when it is a tensor chunk read in place (<see cref="TensorChunkReader"/>):
    /// <paramref name="data"/> is copied into the tensor's buffer before this returns.
    /// </summary>
    internal void AddTensorChunk(int index, long offset, ReadOnlySequence<byte> data)
    {
        Guard();
        try
        {
            NextMessage();
            AcceptChunk(index, offset, data);
        }
        catch (WeightStreamException e)
        {
            Poison(e);
            throw;
        }
    }

    /// <summary>Call when the stream ended: the version, if every tensor arrived whole and verified.</summary>
    public VerifiedWeights Complete() => Combine([this]);

    /// <summary>
    /// Call when the streams of a split pull ended, with the assembler of shard i at [i]: the version, if each stream
    /// brought its tensors whole and verified and every stream announced the same manifest.
    /// </summary>
    internal static VerifiedWeights Combine(IReadOnlyList<WeightAssembler> shards)
    {
        for (var i = 0; i < shards.Count; i++)
        {
            if (shards[i]._shard != i || shards[i]._shards != shards.Count)
            {
                throw new ArgumentException($"[{i}] assembles shard {shards[i]._shard} of {shards[i]._shards}, not {i} of {shards.Count}", nameof(shards));
            }
        }

        foreach (var shard in shards)
        {
            shard.Finish();
        }

        var first = shards[0];
        foreach (var shard in shards.Skip(1))
        {
            shard.CheckSameManifest(first);
        }

        var tensors = ImmutableArray.CreateBuilder<WeightTensor>(first._expected!.Length);
        for (var i = 0; i < first._expected.Length; i++)
        {
            var e = first._expected[i];
            var owner = shards.First(s => s._carried[i]);
            tensors.Add(new WeightTensor(e.Name, e.Type, e.Shape, owner._buffers[i]!, e.Digest));
        }

        foreach (var shard in shards)
        {
            shard._completed = true;
            shard.Release();
        }

        return new VerifiedWeights(first._version, tensors.MoveToImmutable());
    }

    /// <summary>Checks that the stream ended with its manifest and all its tensors in, every one verified.</summary>
    private void Finish()
    {
        Guard();
        try
        {
            if (_expected is null)
            {
                throw Fail("the stream ended before its manifest arrived");
            }

            if (_current < _expected.Length)
            {
                var tensor = _expected[_current];
                throw Fail(
                    $"the stream ended early: {Describe(_current)} has {_received[_current]} of {tensor.ByteLength} bytes "
                    + $"({_current} of {_expected.Length} tensors complete, {BytesReceived} of {TotalBytes} bytes received)");
            }

            // Every background hash, and the first mismatch in manifest order (deterministic, whatever finished first).
            Task.WaitAll(_verifications);
            if (_verifications.Select(v => v.Result).FirstOrDefault(f => f is not null) is { } mismatch)
            {
                throw mismatch;
            }
        }
        catch (WeightStreamException e)
        {
            Poison(e);
            throw;
        }
    }

    /// <summary>A split pull's streams must describe one version: same version number, same tensors in the same order.</summary>
    private void CheckSameManifest(WeightAssembler first)
    {
        if (ManifestDifference(first) is { } difference)
        {
            var failure = Fail($"the streams of one pull announced different manifests: shard {_shard} of {_shards} has {difference}");
            Poison(failure);
            throw failure;
        }
    }

    private string? ManifestDifference(WeightAssembler first)
    {
        if (_version != first._version)
        {
            return $"version {_version}, shard 0's is version {first._version}";
        }

        if (_expected!.Length != first._expected!.Length)
        {
            return $"{_expected.Length} tensors, shard 0's {first._expected.Length}";
        }

        for (var i = 0; i < _expected.Length; i++)
        {
            if (!_expected[i].SameAs(first._expected[i]))
            {
                return $"tensors[{i}] as '{Quote(_expected[i].Name)}' ({_expected[i].ByteLength} bytes), unlike shard 0";
            }
        }

        return null;
    }

    private void NextMessage()
    {
        if (_backgroundFailure is { } background)
        {
            throw background;
        }

        _messages++;
    }

    private void AcceptManifest(WeightManifest manifest)
    {
        if (_expected is not null)
        {
            throw Fail($"message {_messages} is a second manifest; a stream has exactly one, first");
        }

        if (manifest.Version < 1)
        {
            throw Fail($"manifest version {manifest.Version} is not valid; versions start at 1");
        }

        if (_expectedVersion != 0 && manifest.Version != _expectedVersion)
        {
            throw Fail($"asked for version {_expectedVersion}, the manifest is version {manifest.Version}");
        }

        var count = manifest.Tensors.Count;
        if (count == 0)
        {
            throw Fail($"manifest of version {manifest.Version} lists no tensors");
        }

        if (count > _options.MaxTensorCount)
        {
            throw Fail($"manifest lists {count} tensors, more than the limit of {_options.MaxTensorCount}");
        }

        var expected = new Expected[count];
        var indices = new Dictionary<string, int>(StringComparer.Ordinal);
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            expected[i] = ParseInfo(manifest.Tensors[i], i, indices);
            // Compared before adding, so the sum never overflows whatever the limit.
            if (expected[i].ByteLength > _options.MaxTotalBytes - total)
            {
                throw Fail(
                    $"manifest needs more than the limit of {_options.MaxTotalBytes} bytes by tensors[{i}]; "
                    + $"it announces {manifest.TotalBytes} in all");
            }

            total += expected[i].ByteLength;
        }

        if (manifest.TotalBytes != total)
        {
            throw Fail($"manifest total_bytes {manifest.TotalBytes} does not equal the sum of its tensors' byte_length, {total}");
        }

        _version = manifest.Version;
        _expected = expected;
        var assigned = WeightShards.Assign([.. expected.Select(e => e.ByteLength)], _shards);
        _carried = [.. assigned.Select(shard => shard == _shard)];
        _buffers = new TensorBytes?[count];
        _received = new long[count];
        TotalBytes = total;
        AdvancePastComplete();
    }

    private Expected ParseInfo(TensorInfo info, int index, Dictionary<string, int> indices)
    {
        if (info.Name.Length == 0)
        {
            throw Fail($"manifest tensors[{index}] has no name");
        }

        var name = Quote(info.Name);
        if (!indices.TryAdd(info.Name, index))
        {
            throw Fail($"manifest names tensor '{name}' twice (tensors[{indices[info.Name]}] and tensors[{index}])");
        }

        var place = $"tensor '{name}' (tensors[{index}])";
        if (!WeightDtypes.TryParse(info.Dtype, out var type, out var size))
        {
            throw Fail($"{place}: dtype '{Quote(info.Dtype)}' is not supported; valid: {string.Join(", ", WeightDtypes.Names)}");
        }

        var shape = info.Shape.ToImmutableArray();
        var length = Shapes.ByteLength(shape, size);
        if (length is null)
        {
            throw Fail($"{place}: shape {Shapes.Format(shape)} has a negative dimension or too many elements");
        }

        if (info.ByteLength != length)
        {
            throw Fail(
                $"{place}: byte_length {info.ByteLength} does not match shape {Shapes.Format(shape)} of {info.Dtype} "
                + $"({size} bytes each), which is {length} bytes");
        }

        if (length > _options.MaxTotalBytes)
        {
            throw Fail($"{place}: {length} bytes is more than the limit of {_options.MaxTotalBytes} bytes for a whole version");
        }

        if (info.Digest.Length != DigestBytes)
        {
            throw Fail($"{place}: digest has {info.Digest.Length} bytes; an XXH128 has {DigestBytes}");
        }

        return new Expected(info.Name, type, shape, length.Value, [.. info.Digest.Span]);
    }

    private void AcceptChunk(int index, long offset, ReadOnlySequence<byte> data)
    {
        if (_expected is null)
        {
            throw Fail(
                $"message {_messages} is a chunk of tensors[{index}] at offset {offset}, "
                + "but the stream must start with the manifest");
        }

        if (index < 0 || index >= _expected.Length)
        {
            throw Fail($"message {_messages}: tensor_index {index} is out of range; the manifest lists {_expected.Length} tensors");
        }

        if (!_carried[index])
        {
            throw Fail($"{Describe(index)}: chunk of a tensor that shard {_shard} of {_shards} does not carry");
        }

        var tensor = _expected[index];
        var length = data.Length;
        if (length == 0)
        {
            throw Fail($"{Describe(index)}: empty chunk at offset {offset}");
        }

        if (length > _options.MaxChunkBytes)
        {
            throw Fail($"{Describe(index)}: chunk of {length} bytes at offset {offset} is over the limit of {_options.MaxChunkBytes}");
        }

        if (index < _current)
        {
            throw Fail($"{Describe(index)}: chunk at offset {offset} after the tensor was complete");
        }

        if (index > _current)
        {
            throw Fail(
                $"{Describe(index)}: chunk arrived while {Describe(_current)} has {_received[_current]} "
                + $"of {_expected[_current].ByteLength} bytes; tensors must arrive whole, in manifest order");
        }

        if (offset != _received[index])
        {
            throw Fail($"{Describe(index)}: chunk at offset {offset}, expected offset {_received[index]} (chunks must arrive in order)");
        }

        if (length > tensor.ByteLength - _received[index])
        {
            throw Fail($"{Describe(index)}: chunk of {length} bytes at offset {offset} overruns its byte_length {tensor.ByteLength}");
        }

        // Allocated on the first chunk, not at the manifest: a stream that dies early never holds the whole version.
        var buffer = _buffers[index] ??= _options.Buffers?.Rent(tensor.ByteLength) ?? new TensorBytes(tensor.ByteLength);
        buffer.Write(offset, data);
        _received[index] += length;
        BytesReceived += length;
        AdvancePastComplete();
    }

    /// <summary>Verifies each tensor that has all its bytes (including empty ones) and moves to the next this stream carries.</summary>
    private void AdvancePastComplete()
    {
        while (_current < _expected!.Length && (!_carried[_current] || _received[_current] == _expected[_current].ByteLength))
        {
            if (_carried[_current])
            {
                VerifyComplete(_current);
            }

            _current++;
        }
    }

    /// <summary>Checks a tensor that has all its bytes against its digest: small ones now, large ones on the thread pool.</summary>
    private void VerifyComplete(int index)
    {
        var expected = _expected![index];
        var buffer = _buffers[index] ??= new TensorBytes(0);
        var place = Describe(index);
        if (expected.ByteLength < BackgroundHashBytes)
        {
            if (Verify(buffer, expected, place) is { } failure)
            {
                throw failure;
            }
        }
        else
        {
            _verifications.Add(Task.Run(() =>
            {
                var failure = Verify(buffer, expected, place);
                if (failure is not null)
                {
                    _backgroundFailure ??= failure;
                }

                return failure;
            }));
        }
    }

    /// <summary>Null when the bytes hash to the manifest's digest, else the failure to throw.</summary>
    private static WeightStreamException? Verify(TensorBytes buffer, Expected expected, string place)
    {
        var actual = buffer.Digest();
        return actual.AsSpan().SequenceEqual(expected.Digest.AsSpan())
            ? null
            : Fail(
                $"{place}: digest mismatch, the manifest says {Convert.ToHexStringLower(expected.Digest.AsSpan())}, "
                + $"the {expected.ByteLength} bytes received hash to {Convert.ToHexStringLower(actual)}");
    }

    private void Guard()
    {
        if (_failure is not null)
        {
            throw new WeightStreamException($"the stream already failed: {_failure.Message}", _failure);
        }

        if (_completed)
        {
            throw new InvalidOperationException("the assembler already completed; use a new one for the next stream");
        }
    }

    /// <summary>Drops the received bytes at once, so a failed pull frees its memory even if the assembler lingers.</summary>
    private void Poison(WeightStreamException failure)
    {
        _failure = failure;
        Release();
    }

    private void Release()
    {
        _buffers = [];
        _received = [];
        _carried = [];
        _expected = null;
    }

    private string Describe(int index) => $"tensor '{Quote(_expected![index].Name)}' (tensors[{index}])";

    private static string Quote(string text) =>
        text.Length <= MaxQuotedNameLength ? text : text[..MaxQuotedNameLength] + "...";

    private static WeightStreamException Fail(string message) => new(message);

    private sealed record Expected(string Name, ScalarType Type, ImmutableArray<long> Shape, long ByteLength, ImmutableArray<byte> Digest)
    {
        /// <summary>Equal in every field (a record compares its immutable arrays by reference).</summary>
        public bool SameAs(Expected other) =>
            Name == other.Name && Type == other.Type && ByteLength == other.ByteLength
            && Shape.SequenceEqual(other.Shape) && Digest.SequenceEqual(other.Digest);
    }
}
