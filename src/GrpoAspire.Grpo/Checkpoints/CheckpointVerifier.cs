using System.Diagnostics;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Safetensors;

namespace GrpoAspire.Grpo.Checkpoints;

/// <summary>
/// Whether a checkpoint can be trusted before anything heavy loads from it, and which one a run resumes from. A bad
/// checkpoint fails with its bad file named; <c>latest</c> on a bad newest checkpoint names the newest intact older
/// one too, and leaves the choice to the user (no silent fallback: it would retrain steps the user thinks are done).
/// </summary>
public static class CheckpointVerifier
{
    /// <summary>
    /// Checks <paramref name="folder"/>: every file against its manifest (sizes and SHA-256), or, for a checkpoint written
    /// before manifests, that its JSON files parse and its safetensors headers fit their files (the optimizer state of
    /// those is checked as it loads). Throws a <see cref="CheckpointCorruptException"/> naming the bad file.
    /// </summary>
    public static void Verify(string folder, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        if (CheckpointManifest.Exists(folder))
        {
            var entries = CheckpointManifest.Verify(folder);
            var bytes = entries.Sum(e => e.Size);
            log?.Invoke($"checkpoint {folder}: {entries.Count} files ({bytes / 1e6:F1} MB) match its manifest ({clock.Elapsed.TotalSeconds:F2} s)");
            return;
        }

        try
        {
            _ = TrainerState.Load(folder);
            CheckModel(folder);
        }
        catch (Exception e) when (e is (InvalidDataException or FileNotFoundException) and not CheckpointCorruptException)
        {
            throw CheckpointCorruptException.Because(folder, e);
        }

        log?.Invoke($"checkpoint {folder} has no {CheckpointManifest.FileName} (written before manifests): its files are checked as they load, not against hashes");
    }

    /// <summary>Whether <paramref name="folder"/> passes <see cref="Verify"/>.</summary>
    public static bool IsIntact(string folder)
    {
        try
        {
            Verify(folder);
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// The checkpoint a run starts from, verified: none, <c>latest</c> (the newest complete one in
    /// <paramref name="runDirectory"/>), or a folder holding a trainer state.
    /// </summary>
    public static string? ResolveResume(string? resume, string runDirectory, Action<string>? log = null)
    {
        if (resume is null)
        {
            return null;
        }

        if (resume != "latest")
        {
            if (!File.Exists(Path.Combine(resume, TrainerState.FileName)))
            {
                throw new DirectoryNotFoundException($"--resume {resume}: not a checkpoint folder (no {TrainerState.FileName})");
            }

            Verify(resume, log);
            return resume;
        }

        var newest = CheckpointFolders.Latest(runDirectory)
            ?? throw new DirectoryNotFoundException($"--resume latest: {runDirectory} holds no complete checkpoint-N folder");
        try
        {
            Verify(newest, log);
            return newest;
        }
        catch (CheckpointCorruptException e)
        {
            var older = CheckpointFolders.All(runDirectory).Where(f => f != newest).FirstOrDefault(IsIntact);
            throw e.WithHint(older is null
                ? $"no older checkpoint in {runDirectory} is intact: start without resuming"
                : $"the newest intact checkpoint is {older}: resume from it (--resume {older}), or move {newest} aside");
        }
    }

    /// <summary>config.json parses and every safetensors file's header fits the file (a truncated file fails here).</summary>
    private static void CheckModel(string folder)
    {
        _ = Qwen2Config.Load(folder);
        foreach (var file in SafetensorsIndex.Files(folder))
        {
            using var _ = new SafetensorsFile(file);
        }
    }
}
