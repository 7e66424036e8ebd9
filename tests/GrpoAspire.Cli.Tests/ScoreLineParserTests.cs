using System.Text;
using GrpoAspire.Cli.Scoring;

namespace GrpoAspire.Cli.Tests;

/// <summary>
/// <c>grpo score</c> reads most lines directly and hands the rest to the JSON reader: whichever reads a line, the result
/// (completion, task, id, error) must be the reader's.
/// </summary>
public sealed class ScoreLineParserTests
{
    private const int MaxCompletionBytes = 200;

    private const string Common = """{"id":7,"kind":"edge","completion":" 3 + 4 \n</think>\n<answer>(5 - 2) * 4</answer> → ≈ ✓","nums":[5,2,4],"target":12}""";

    private static readonly string[] LineTexts =
    [
        Common,
        """ { "completion" : "a\tb\"c\\d\/e\u00e9\b\f\r" , "nums" : [ 1 , 2 ] , "target" : -3 , "id" : "x\"y" } """,
        """{"completion":"<answer>1+2</answer>","nums":[1,2],"target":3,"id":-1.5e+3,"extra":true,"more":null,"less":false}""",
        """{"completion":"x","nums":[1],"target":1,"id":{"nested":[1,2]}}""",
        """{"completion":"x","nums":[1],"target":1,"other":[1,{"a":"b"}]}""",
        """{"completion":"x\ud83d\ude00y","nums":[1],"target":1}""",
        """{"completion":"x\ud83dy","nums":[1],"target":1}""",
        """{"completion":"x\q","nums":[1],"target":1}""",
        """{"completion":"x\u12","nums":[1],"target":1}""",
        """{"completion":"x","nums":[1],"target":1,"id":"\x"}""",
        """{"completion":"x","nums":[1],"target":1.0}""",
        """{"completion":"x","nums":[1],"target":1e2}""",
        """{"completion":"x","nums":[1],"target":01}""",
        """{"completion":"x","nums":[1],"target":9223372036854775807}""",
        """{"completion":"x","nums":[1],"target":9223372036854775808}""",
        """{"completion":"x","nums":[-1],"target":1}""",
        """{"completion":"x","nums":[],"target":1}""",
        """{"completion":"x","nums":[1,2,3,4,5,6,7],"target":1}""",
        """{"completion":"x","nums":[1,],"target":1}""",
        """{"completion":"x","nums":[1],"target":1,"target":2}""",
        """{"completion":"x","completion":"y","nums":[1],"target":1}""",
        """{"completion":"x","nums":[1],"target":1,"id":1,"id":2}""",
        """{"compl\u0065tion":"x","nums":[1],"target":1}""",
        """{"completion":"x","nums":[1]}""",
        """{}""",
        """[]""",
        """{"completion":"x","nums":[1],"target":1} trailing""",
        """{"completion":"x","nums":[1],"target":1}}""",
        "{\"completion\":\"x\",\t\"nums\":[1],\"target\":1}\r",
        """{"completion":"x","nums":[1],"target":1,"id":truex}""",
        """{"completion":"x","nums":[1],"target":1,"id":1.2.3}""",
        """{"completion":"x","nums":[1],"target":1,"id":-}""",
        """{"completion":"x","nums":[1],"target":1,"id":01}""",
        """{"completion":"x","nums":[1],"target":1,"id":1.}""",
        """{"completion":"x","nums":[1],"target":1,"id":nul}""",
        """{"completion":"unterminated,"nums":[1],"target":1}""",
        """{"completion":""" + "\"" + new string('w', MaxCompletionBytes + 1) + "\"" + ""","nums":[1],"target":1}""",
        """{"completion":""" + "\"" + new string('w', MaxCompletionBytes) + "\"" + ""","nums":[1],"target":1}""",
        """{"completion":""" + "\"" + new string('w', MaxCompletionBytes - 2) + "é\"" + ""","nums":[1],"target":1}""",
        """{"completion":""" + "\"" + new string('w', MaxCompletionBytes - 10) + @"\n\n\n\n\n\n\n\n\n\n" + "\"" + ""","nums":[1],"target":1}""",
        """{"completion":5,"nums":[1],"target":1}""",
        """{"completion":"x","nums":"1","target":1}""",
    ];

    public static TheoryData<string> Lines => new(LineTexts);

    [Theory]
    [MemberData(nameof(Lines))]
    public void EveryLineReadsAsTheReaderReadsIt(string line) => AssertSameAsReader(Encoding.UTF8.GetBytes(line));

    [Fact]
    public void TheCommonShapeIsReadDirectlyAndTheRestByTheReader()
    {
        var parser = new ScoreLineParser(MaxCompletionBytes);
        Assert.True(parser.TryReadDirect(Encoding.UTF8.GetBytes(Common), out var parsed));
        Assert.Equal([5L, 2, 4], parsed.Task!.Nums);
        Assert.Contains("→ ≈ ✓", parsed.Completion!.Value.ToString(), StringComparison.Ordinal);
        Assert.False(parser.TryReadDirect(Encoding.UTF8.GetBytes("""{"completion":"x","nums":[1],"target":1,"id":[1]}"""), out _));
        Assert.False(parser.TryReadDirect([.. Encoding.UTF8.GetBytes(Common)[..^1], 0xff, (byte)'}'], out _));
        var longest = new string('w', MaxCompletionBytes - 2) + "é";
        Assert.True(parser.TryReadDirect(Encoding.UTF8.GetBytes($$"""{"completion":"{{longest}}","nums":[1],"target":1}"""), out parsed));
        Assert.Equal(longest, parsed.Completion!.Value.ToString());
    }

    [Fact]
    public void BytesThatAreNoUtf8TextAndRawControlCharactersReadAsTheReaderReadsThem()
    {
        foreach (var (before, bad, after) in new[]
        {
            ("""{"completion":"a""", new byte[] { 0xff }, """b","nums":[1],"target":1}"""),
            ("""{"completion":"x","nums":[1],"target":1,"id":"a""", [0xc3], "\"}"),
            ("""{"completion":"x","nums":[1],"target":1,"note":"a""", [0x80], "\"}"),
            ("""{"completion":"x","nums":[1],"target":1,"n""", [0xe2, 0x82], """ote":1}"""),
            ("""{"completion":"a""", [0x01], """b","nums":[1],"target":1}"""),
            ("""{"completion":"x","nums":[1],"target":1,"id":"a""", [0x1f], "\"}"),
            ("""{"completion":"x","nums":[1],"target":1,"n""", [0x0d], """ote":1}"""),
        })
        {
            AssertSameAsReader([.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)]);
        }
    }

    [Fact]
    public void MutatedLinesReadAsTheReaderReadsThem()
    {
        // Bytes flipped, dropped and repeated in lines of every shape above: whatever either path makes of the result,
        // the two must agree.
        var random = new Random(20);
        // Structure, literals, UTF-8 (é), bytes no UTF-8 text holds (a lone continuation, a lead byte without one, 0xff)
        // and raw control characters.
        var alphabet = (byte[])[.. "{}[]\",:\\ -+.0123456789eEtrufalsn\u00e9x\t"u8, 0x80, 0xc3, 0xff, 0x01, 0x0d, 0x1f];
        var samples = LineTexts.Select(Encoding.UTF8.GetBytes).ToArray();
        for (var i = 0; i < 20_000; i++)
        {
            var line = samples[random.Next(samples.Length)].ToList();
            for (var edits = random.Next(1, 4); edits > 0 && line.Count > 0; edits--)
            {
                var at = random.Next(line.Count);
                switch (random.Next(3))
                {
                    case 0:
                        line[at] = alphabet[random.Next(alphabet.Length)];
                        break;
                    case 1:
                        line.RemoveAt(at);
                        break;
                    default:
                        line.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                }
            }

            AssertSameAsReader([.. line]);
        }
    }

    private static void AssertSameAsReader(byte[] line)
    {
        var (ours, reader) = (new ScoreLineParser(MaxCompletionBytes).Parse(line), new ScoreLineParser(MaxCompletionBytes).ParseWithReader(line));
        var text = Encoding.UTF8.GetString(line);
        Assert.True(ours.Error == reader.Error, $"{text}: error '{ours.Error}' against the reader's '{reader.Error}'");
        Assert.True(ours.Completion?.ToString() == reader.Completion?.ToString(), $"{text}: completion differs");
        Assert.True(ours.RawId.AsSpan().SequenceEqual(reader.RawId), $"{text}: id differs");
        Assert.True((ours.RawId is null) == (reader.RawId is null), $"{text}: id present in one only");
        Assert.Equal(reader.Task?.Nums, ours.Task?.Nums);
        Assert.Equal(reader.Task?.Target, ours.Task?.Target);
    }
}
