using System.Text;
using GrpoAspire.Cli.Scoring;
using GrpoAspire.Countdown;

namespace GrpoAspire.Cli.Tests;

public class LineBlockReaderTests
{
    [Fact]
    public async Task LinesEndAtLfOrCrLfAndTheLastNeedsNoLineBreak()
    {
        var lines = await ReadAllAsync("abc\r\nde\n\n" + new string('x', 25) + "\nxyz", maxLineBytes: 10, blockBytes: 16, readBytes: 64);

        Assert.Equal([(1, "abc"), (2, "de"), (3, ""), (4, "<too long: 25>"), (5, "xyz")], lines);
    }

    [Fact]
    public async Task RandomLinesComeBackNumberedExactlyWhateverTheBlockAndReadBoundaries()
    {
        // 16-byte blocks and reads of 1 to 7 bytes: lines straddle both all the time, and long ones are skipped.
        var random = new SeededRandom(11);
        var expected = new List<(long, string)>();
        var text = new StringBuilder();
        for (var i = 0; i < 3000; i++)
        {
            var line = new string((char)('a' + (i % 26)), random.Next(0, 45));
            expected.Add((i + 1, line.Length > 20 ? $"<too long: {line.Length}>" : line));
            text.Append(line).Append(random.Next(0, 3) == 0 ? "\r\n" : "\n");
        }

        foreach (var readBytes in new[] { 1, 3, 7 })
        {
            Assert.Equal(expected, await ReadAllAsync(text.ToString(), maxLineBytes: 20, blockBytes: 16, readBytes));
        }
    }

    [Fact]
    public async Task AUtf8ByteOrderMarkIsSkippedAndUtf16IsRefused()
    {
        Assert.Equal([(1, "ab")], await ReadAllAsync("\uFEFFab", maxLineBytes: 10, blockBytes: 16, readBytes: 1));

        var utf16 = new MemoryStream(Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("ab\n")).ToArray());
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await new LineBlockReader(utf16, 10).ReadAsync(CancellationToken.None));
        Assert.Contains("UTF-16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyInputHasNoLines()
    {
        Assert.Empty(await ReadAllAsync("", maxLineBytes: 10, blockBytes: 16, readBytes: 4));
    }

    private static async Task<List<(long Line, string Text)>> ReadAllAsync(string text, int maxLineBytes, int blockBytes, int readBytes)
    {
        var reader = new LineBlockReader(new TrickleStream(Encoding.UTF8.GetBytes(text), readBytes), maxLineBytes, blockBytes);
        var lines = new List<(long, string)>();
        while (await reader.ReadAsync(CancellationToken.None) is { } block)
        {
            if (block.TooLongLength > 0)
            {
                lines.Add((block.FirstLine, $"<too long: {block.TooLongLength}>"));
                continue;
            }

            var offset = 0;
            for (var number = block.FirstLine; block.TryReadLine(ref offset, out var line); number++)
            {
                lines.Add((number, line.Length > maxLineBytes ? $"<too long: {line.Length}>" : Encoding.UTF8.GetString(line)));
            }

            block.Return();
        }

        return lines;
    }

    /// <summary>A stream that returns at most a few bytes per read, as a pipe may.</summary>
    private sealed class TrickleStream(byte[] data, int readBytes) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, readBytes)], cancellationToken);
    }
}
