using GrpoAspire.Cli.Scoring;
using GrpoAspire.Countdown;

namespace GrpoAspire.Cli.Tests;

public class LineReaderTests
{
    [Fact]
    public async Task LinesEndAtLfOrCrLfAndTheLastNeedsNoLineBreak()
    {
        var lines = await ReadAllAsync("abc\r\nde\n\n" + new string('x', 25) + "\nxyz", maxLineChars: 10);

        Assert.Equal(["abc", "de", "", "<too long: 25>", "xyz"], lines);
    }

    [Fact]
    public async Task RandomLinesComeBackExactlyWhateverTheBufferBoundaries()
    {
        // A 20-character limit starts the buffer at 22 characters: lines straddle it constantly.
        var random = new SeededRandom(11);
        var expected = new List<string>();
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < 3000; i++)
        {
            var line = new string((char)('a' + (i % 26)), random.Next(0, 45));
            expected.Add(line.Length > 20 ? $"<too long: {line.Length}>" : line);
            text.Append(line).Append(random.Next(0, 3) == 0 ? "\r\n" : "\n");
        }

        Assert.Equal(expected, await ReadAllAsync(text.ToString(), maxLineChars: 20));
    }

    [Fact]
    public async Task EmptyInputHasNoLines()
    {
        Assert.Empty(await ReadAllAsync("", maxLineChars: 10));
    }

    private static async Task<List<string>> ReadAllAsync(string text, int maxLineChars)
    {
        var reader = new LineReader(new StringReader(text), maxLineChars);
        var lines = new List<string>();
        while (await reader.ReadAsync(CancellationToken.None) is { } line)
        {
            lines.Add(line.IsTooLong ? $"<too long: {line.TooLongLength}>" : line.Text.ToString());
        }

        return lines;
    }
}
