namespace GrpoAspire.Cli;

/// <summary>The process exit codes every verb shares.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command ran, but some inputs could not be processed (e.g. malformed lines for score).</summary>
    public const int PartialFailure = 1;

    /// <summary>
    /// Bad arguments, an unknown verb or option, an input/output file that cannot be opened, or bad input found while
    /// running (a corrupt checkpoint, a malformed dataset): the user fixes the input.
    /// </summary>
    public const int Usage = 2;

    /// <summary>
    /// Storage failed under a correct command (no space left on device, quota, read-only file system, an I/O error):
    /// EX_IOERR of sysexits.h. The message names the path and the cause; what was saved before stays usable.
    /// </summary>
    public const int IoError = 74;
}
