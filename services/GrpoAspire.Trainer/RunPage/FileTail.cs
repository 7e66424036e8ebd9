using System.Text;

namespace GrpoAspire.Trainer.RunPage;

/// <summary>
/// The end of a file the trainer keeps appending to, read with a bound: a run of any length costs the same per
/// request. Opened shared, so the writer is never in the way; a missing or unreadable file reads as none.
/// </summary>
internal static class FileTail
{
    /// <summary>The last <paramref name="maxBytes"/> of <paramref name="path"/> as UTF-8; null when it cannot be read.</summary>
    /// <param name="cut">Whether the file was longer: the text then starts anywhere, even inside a UTF-8 sequence.</param>
    public static string? Read(string path, int maxBytes, out bool cut)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        cut = false;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = stream.Length;
            var start = Math.Max(0, length - maxBytes);
            stream.Seek(start, SeekOrigin.Begin);
            var buffer = new byte[(int)(length - start)];
            // The writer may have truncated the file since Length was read: take what is there.
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            cut = start > 0;
            return Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The complete lines of a tail: the first one is dropped when the read began inside it.</summary>
    public static IEnumerable<string> Lines(string? text, bool cut)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var lines = text.Split('\n');
        return (cut ? lines.Skip(1) : lines).Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0);
    }
}
