using System.Text;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Safetensors;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Safetensors;

public sealed class SafetensorsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-safetensors").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Fixture(string name) => Path.Combine(SharedPaths.HfQwen2, name);

    [Fact]
    public void TransformersFilesReadWithTheirNamesShapesAndTypes()
    {
        using var expected = new SafetensorsFile(Path.Combine(Fixture("qwen2-tiny-tied"), "expected.safetensors"));
        Assert.Equal(ScalarType.Int64, expected.Entries["input_ids"].Dtype);
        Assert.Equal([2L, 11L, 384L], expected.Entries["logits"].Shape);
        using var model = new SafetensorsFile(Path.Combine(Fixture("qwen2-tiny-untied"), "model.safetensors"));
        Assert.Equal(ScalarType.Float32, model.Entries["lm_head.weight"].Dtype);
        Assert.Equal("pt", model.Metadata["format"]);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.Int64)]
    public void RoundTripsAreBitIdentical(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var original = (randn([3, 5, 7]) * 100).to(dtype);
        var path = Path.Combine(_folder, "t.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a.b"] = original, ["empty"] = zeros([0, 4], dtype: dtype) });
        using var file = new SafetensorsFile(path) { ChunkBytes = 24 }; // force reads through several views
        Assert.Equal(original.bytes.ToArray(), file.Read("a.b").bytes.ToArray());
        Assert.Equal([0L, 4L], file.Read("empty").shape);
    }

    [Fact]
    public void ABfloat16CheckpointLoadsRunsAndASavedCheckpointReloadsBitIdentical()
    {
        using var scope = NewDisposeScope();
        using var original = Qwen2Checkpoint.Load(Fixture("qwen2-tiny-untied"));
        var bf16Folder = Path.Combine(_folder, "bf16");
        Qwen2Checkpoint.Save(original, bf16Folder, ScalarType.BFloat16);
        Assert.Equal("bfloat16", Qwen2Config.Load(bf16Folder).CheckpointDtype);

        using var bf16 = Qwen2Checkpoint.Load(bf16Folder, dtype: ScalarType.BFloat16);
        var ids = tensor(new long[] { 1, 2, 3, 4 }, [1, 4]);
        var logits = bf16.Forward(ids, arange(4, dtype: ScalarType.Int64).unsqueeze(0));
        Assert.Equal(ScalarType.BFloat16, logits.dtype);
        Assert.False(logits.isnan().any().item<bool>());

        var again = Path.Combine(_folder, "again");
        Qwen2Checkpoint.Save(bf16, again);
        using var reloaded = Qwen2Checkpoint.Load(again, dtype: ScalarType.BFloat16);
        foreach (var ((name, a), (_, b)) in bf16.named_parameters().Zip(reloaded.named_parameters()))
        {
            Assert.True(a.bytes.SequenceEqual(b.bytes), $"{name} changed through save and load");
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(bf16Folder, "model.safetensors")), File.ReadAllBytes(Path.Combine(again, "model.safetensors")));
    }

    [Fact]
    public void ShardedFoldersLoadThroughTheIndexLikeASingleFile()
    {
        using var scope = NewDisposeScope();
        var single = SafetensorsIndex.LoadStateDict(Fixture("qwen2-tiny-tied"));
        var sharded = Path.Combine(_folder, "sharded");
        var files = SafetensorsWriter.WriteModel(sharded, single, maxShardBytes: 100_000);
        Assert.True(files.Count > 1);
        Assert.True(File.Exists(Path.Combine(sharded, SafetensorsIndex.IndexFileName)));
        var reread = SafetensorsIndex.LoadStateDict(sharded);
        Assert.Equal(single.Keys.Order(), reread.Keys.Order());
        Assert.All(single, pair => Assert.True(pair.Value.bytes.SequenceEqual(reread[pair.Key].bytes), pair.Key));
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "too short", [1, 2, 3] },
        { "header length", File8(1_000_000, "{}") },
        { "not valid JSON", File8(4, "{abc") },
        { "is not supported", File8(0, "{\"t\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1) },
        { "expected 8", File8(0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4) },
        { "data holds", File8(0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4) },
        { "overlap", File8(0, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8) },
        { "needs dtype", File8(0, "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4) },
    };

    /// <summary>A file with a header (length field overridden unless 0) and some data bytes.</summary>
    private static byte[] File8(long declared, string header, int data = 0)
    {
        var json = Encoding.UTF8.GetBytes(header);
        return BitConverter.GetBytes(declared == 0 ? json.Length : declared).Concat(json).Concat(new byte[data]).ToArray();
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesFailWithAClearMessage(string expected, byte[] content)
    {
        var path = Path.Combine(_folder, "bad.safetensors");
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<InvalidDataException>(() => new SafetensorsFile(path).Dispose());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadingATensorAllocatesNoManagedCopyOfIt()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_folder, "big.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["big"] = ones([16, 1024, 1024]) }); // 64 MB
        using var file = new SafetensorsFile(path);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var big = file.Read("big");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"{allocated} managed bytes allocated to read 64 MB");
        Assert.Equal(16L * 1024 * 1024, big.sum().item<float>());
    }
}
