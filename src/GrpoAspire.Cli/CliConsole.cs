using System.Text;

namespace GrpoAspire.Cli;

/// <summary>
/// The standard streams a command reads and writes (in-memory ones in tests): standard input and output as bytes, for
/// commands that stream UTF-8 (score), and <see cref="Out"/>, buffered UTF-8 text over the same output, for the rest.
/// A command writes to one of <see cref="OutStream"/> and <see cref="Out"/>, not both.
/// </summary>
public sealed class CliConsole(Stream input, Stream output, TextWriter error) : IAsyncDisposable
{
    public Stream In => input;

    public Stream OutStream => output;

    /// <summary>Buffered (Console.Out flushes on every write, far too slow for 200k lines); flushed on dispose.</summary>
    public TextWriter Out { get; } = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true);

    public TextWriter Error => error;

    public async ValueTask DisposeAsync()
    {
        await Out.DisposeAsync();
        await output.FlushAsync();
    }
}
