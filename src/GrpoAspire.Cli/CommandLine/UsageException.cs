namespace GrpoAspire.Cli.CommandLine;

/// <summary>The command line is wrong: the message is shown with the verb's usage and the exit code is 2.</summary>
public sealed class UsageException(string message) : Exception(message);
