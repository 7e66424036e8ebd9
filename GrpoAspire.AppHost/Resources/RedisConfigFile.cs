namespace GrpoAspire.AppHost.Resources;

/// <summary>
/// redis-server's private config file: in a fresh folder of the temp directory that only this user can enter (0700), the
/// file itself 0600; one per AppHost, deleted with its folder when the AppHost stops.
/// </summary>
internal sealed class RedisConfigFile
{
    private readonly Lock _lock = new();
    private string? _folder;

    /// <summary>Writes (or rewrites, on a restart of the resource) <paramref name="contents"/>; returns the file's path.</summary>
    public string Write(string contents)
    {
        lock (_lock)
        {
            _folder ??= Directory.CreateTempSubdirectory("grpo-redis-").FullName; // 0700 on Unix
            var path = Path.Combine(_folder, "redis.conf");
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(contents);
            return path;
        }
    }

    public void Delete()
    {
        lock (_lock)
        {
            if (_folder is not null && Directory.Exists(_folder))
            {
                Directory.Delete(_folder, recursive: true);
            }
        }
    }
}
