using System.Text;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Grpo.Tests;

/// <summary>
/// checkpoint_manifest.json: written last, checked on resume, every bad file named; <c>latest</c> on a corrupt newest
/// checkpoint names the newest intact one; a save failed for storage leaves the published checkpoints as they were.
/// </summary>
public sealed class CheckpointManifestTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-manifest").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A checkpoint-like folder: a trainer state and an "optimizer" of <paramref name="optimizer"/>, with its manifest.</summary>
    private string Checkpoint(int step, string optimizer = "abc")
    {
        var folder = CheckpointFolders.For(_folder, step);
        Directory.CreateDirectory(folder);
        new TrainerState { GlobalStep = step }.Save(folder);
        File.WriteAllText(Path.Combine(folder, CheckpointFolders.OptimizerFileName), optimizer);
        CheckpointManifest.Write(folder);
        return folder;
    }

    [Fact]
    public void TheManifestListsEveryFileWithItsSizeAndSha256()
    {
        var folder = Checkpoint(1);
        var entries = CheckpointManifest.Read(folder);
        Assert.Equal([CheckpointFolders.OptimizerFileName, TrainerState.FileName], entries.Select(e => e.Name));
        var optimizer = entries[0];
        Assert.Equal(3, optimizer.Size);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", optimizer.Sha256); // SHA-256("abc"), FIPS 180-2
        Assert.Equal(entries, CheckpointManifest.Verify(folder));
    }

    [Fact]
    public void ATruncatedFileIsNamedWithItsSizeAndTheManifests()
    {
        var folder = Checkpoint(1, optimizer: "abcdef");
        File.WriteAllText(Path.Combine(folder, CheckpointFolders.OptimizerFileName), "abc");
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointManifest.Verify(folder));
        Assert.Equal($"{Path.Combine(folder, CheckpointFolders.OptimizerFileName)}: 3 bytes, the manifest says 6", e.Message);
    }

    [Fact]
    public void AFlippedByteIsNamedAsAHashMismatch()
    {
        var folder = Checkpoint(1);
        File.WriteAllText(Path.Combine(folder, CheckpointFolders.OptimizerFileName), "abd");
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointManifest.Verify(folder));
        Assert.StartsWith($"{Path.Combine(folder, CheckpointFolders.OptimizerFileName)}: its SHA-256 differs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        var folder = Checkpoint(1);
        File.Delete(Path.Combine(folder, TrainerState.FileName));
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointManifest.Verify(folder));
        Assert.Equal(TrainerState.FileName, e.File);
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"files\": [", "not valid JSON")]
    [InlineData("{\"version\": 1}", "needs a \"files\" list")]
    [InlineData("{\"files\": [{\"name\": \"../recipe.json\", \"size\": 1, \"sha256\": \"00\"}]}", "plain file names")]
    public void AManifestThatIsItselfBadIsNamed(string manifest, string problem)
    {
        var folder = Checkpoint(1);
        File.WriteAllText(Path.Combine(folder, CheckpointManifest.FileName), manifest);
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointManifest.Verify(folder));
        Assert.StartsWith(Path.Combine(folder, CheckpointManifest.FileName), e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnparsableTrainerStateIsNamedWithItsLine()
    {
        var folder = Checkpoint(1);
        File.WriteAllText(Path.Combine(folder, TrainerState.FileName), "{\n  \"global_step\": ");
        var e = Assert.Throws<CheckpointCorruptException>(() => TrainerState.Load(folder));
        Assert.StartsWith($"{Path.Combine(folder, TrainerState.FileName)}: not valid JSON (line 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResumingLatestFromACorruptNewestCheckpointNamesTheBadFileAndTheNewestIntactOne()
    {
        Checkpoint(1);
        var intact = Checkpoint(2);
        var corrupt = Checkpoint(3);
        var newest = Checkpoint(4);
        File.WriteAllText(Path.Combine(corrupt, CheckpointFolders.OptimizerFileName), "xyz");
        File.AppendAllText(Path.Combine(newest, CheckpointFolders.OptimizerFileName), "!");
        Assert.Equal(newest, Assert.Throws<CheckpointCorruptException>(() => CheckpointVerifier.ResolveResume(newest, _folder)).Folder);

        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointVerifier.ResolveResume("latest", _folder));
        Assert.StartsWith($"{Path.Combine(newest, CheckpointFolders.OptimizerFileName)}: 4 bytes, the manifest says 3", e.Message, StringComparison.Ordinal);
        Assert.Contains($"the newest intact checkpoint is {intact}", e.Message, StringComparison.Ordinal);
        Assert.Equal(intact, CheckpointVerifier.ResolveResume(intact, _folder));
    }

    [Fact]
    public void ACheckpointWithoutAManifestIsCheckedForWhatItCanAndItsMissingModelIsNamed()
    {
        var folder = Checkpoint(1);
        File.Delete(Path.Combine(folder, CheckpointManifest.FileName));
        File.WriteAllText(Path.Combine(folder, "config.json"), "{\"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"num_key_value_heads\": 1}");
        var log = new List<string>();
        var e = Record.Exception(() => CheckpointVerifier.ResolveResume("latest", _folder, log.Add));

        // Without model files it is not a checkpoint: the legacy check still reads what it can and names what is missing.
        Assert.IsType<CheckpointCorruptException>(e);
        Assert.Contains("model.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Empty(log);
    }

    [Fact]
    public void AStorageFailureNamesTheFileAndTheCause()
    {
        var partial = Path.Combine(_folder, "checkpoint-3.partial");
        var full = new IOException($"No space left on device : '{Path.Combine(partial, "model.safetensors")}'", 28);
        Assert.Equal($"no space left on device writing {Path.Combine(partial, "model.safetensors")}", StorageException.Writing(full, partial)!.Message);
        Assert.Equal($"disk quota exceeded writing {partial}", StorageException.Writing(new IOException("Disk quota exceeded", 122), partial)!.Message);
        Assert.Null(StorageException.Writing(new FileNotFoundException("gone"), partial));
        Assert.Null(StorageException.Writing(new IOException("Sharing violation", 11), partial));
    }

    [Fact]
    public void ASaveThatFailsForStorageLeavesThePublishedCheckpointsAndNoPartialFolder()
    {
        using var run = new RunFolder(_folder, "{}", seed: 7, startStep: 0);
        var first = run.WriteCheckpoint(1, partial =>
        {
            Directory.CreateDirectory(partial);
            new TrainerState { GlobalStep = 1 }.Save(partial);
        });
        CheckpointManifest.Verify(first);

        var e = Assert.Throws<StorageException>(() => run.WriteCheckpoint(2, partial =>
        {
            Directory.CreateDirectory(partial);
            File.WriteAllBytes(Path.Combine(partial, "model.safetensors"), Encoding.UTF8.GetBytes("half"));
            throw new IOException($"No space left on device : '{Path.Combine(partial, "model.safetensors")}'", 28);
        }));
        Assert.Equal($"no space left on device writing {Path.Combine(_folder, "checkpoint-2.partial", "model.safetensors")}", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_folder, "checkpoint-2.partial")), "the failed save's partial folder was left behind");
        Assert.Equal([first], CheckpointFolders.All(_folder));
        CheckpointManifest.Verify(first);
    }
}
