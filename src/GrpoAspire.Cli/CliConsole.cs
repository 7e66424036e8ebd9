namespace GrpoAspire.Cli;

/// <summary>The standard streams a command reads and writes (swapped for in-memory ones in tests).</summary>
public sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error);
