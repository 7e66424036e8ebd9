namespace GrpoAspire.Cli;

/// <summary>The process exit codes every verb shares.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command ran, but some inputs could not be processed (e.g. malformed lines for score).</summary>
    public const int PartialFailure = 1;

    /// <summary>Bad arguments, an unknown verb or option, or an input/output file that cannot be opened.</summary>
    public const int Usage = 2;
}
