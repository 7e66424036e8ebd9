namespace GrpoAspire.Grpo.Checkpoints;

/// <summary>
/// A checkpoint file is missing, cut short, changed since it was saved, or does not parse: bad input, which the user
/// fixes by resuming from another checkpoint. The message names the file (<c>runs/x/checkpoint-40/optimizer.bin: ...</c>).
/// </summary>
public sealed class CheckpointCorruptException : IOException
{
    public CheckpointCorruptException(string folder, string file, string problem, Exception? inner = null)
        : base($"{Path.Combine(folder, file)}: {problem}", inner)
    {
        Folder = folder;
        File = file;
    }

    private CheckpointCorruptException(string message, Exception inner, string folder, string file)
        : base(message, inner)
    {
        Folder = folder;
        File = file;
    }

    /// <summary>A reader's failure on a file of <paramref name="folder"/>, whose message names the file already.</summary>
    public static CheckpointCorruptException Because(string folder, Exception e) => new(e.Message, e, folder, string.Empty);

    /// <summary>The checkpoint folder.</summary>
    public string Folder { get; }

    /// <summary>The bad file's name in it (empty when only the message names it).</summary>
    public string File { get; }

    /// <summary>The same failure with a hint after it (which checkpoint to resume from instead).</summary>
    public CheckpointCorruptException WithHint(string hint) => new($"{Message}; {hint}", this, Folder, File);
}

/// <summary>
/// Storage failed under the run (no space left, quota, read-only file system, an I/O error), not its inputs: the message
/// says what and where ("no space left on device writing runs/x/checkpoint-3.partial/model.safetensors").
/// </summary>
public sealed class StorageException(string message, Exception inner) : IOException(message, inner)
{
    /// <summary>
    /// The cause of <paramref name="e"/> when it is storage failing (on Unix .NET keeps the errno as the HResult; on Windows the HRESULT of the Win32 error), else null:
    /// a missing file or folder is bad input, not storage.
    /// </summary>
    public static string? CauseOf(IOException e) => e switch
    {
        StorageException => e.Message,
        FileNotFoundException or DirectoryNotFoundException or EndOfStreamException or CheckpointCorruptException => null,
        _ => e.HResult switch
        {
            5 => "I/O error",
            27 => "file too large",
            28 => "no space left on device",
            30 => "read-only file system",
            122 => "disk quota exceeded",
            unchecked((int)0x80070070) or unchecked((int)0x80070027) => "no space left on device", // ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL
            _ => null,
        },
    };

    /// <summary>
    /// <paramref name="e"/> as a storage failure "writing <paramref name="what"/>" when it is one (the file .NET names in its
    /// message when it names one under <paramref name="what"/>), else null.
    /// </summary>
    public static StorageException? Writing(IOException e, string what)
    {
        if (e is StorageException storage)
        {
            return storage;
        }

        if (CauseOf(e) is not { } cause)
        {
            return null;
        }

        // .NET's Unix messages end with the path: "No space left on device : '/runs/x/checkpoint-3.partial/model.safetensors'".
        var quoted = e.Message.LastIndexOf(" : '", StringComparison.Ordinal);
        var path = quoted >= 0 ? e.Message[(quoted + 4)..].TrimEnd('\'', '.') : null;
        var where = path is not null && Path.GetFullPath(path).StartsWith(Path.GetFullPath(what), StringComparison.Ordinal)
            ? Path.Combine(what, Path.GetRelativePath(Path.GetFullPath(what), Path.GetFullPath(path)))
            : what;
        return new StorageException($"{cause} writing {where}", e);
    }
}
