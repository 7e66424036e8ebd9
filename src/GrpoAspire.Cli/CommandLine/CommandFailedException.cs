namespace GrpoAspire.Cli.CommandLine;

/// <summary>
/// A command that was given correctly failed on what it found (a corrupt checkpoint, a full disk): the message is shown
/// as one line, without the verb's usage, and the process exits with <paramref name="exitCode"/>.
/// </summary>
public sealed class CommandFailedException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
