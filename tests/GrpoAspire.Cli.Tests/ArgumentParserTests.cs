using GrpoAspire.Cli.CommandLine;

namespace GrpoAspire.Cli.Tests;

public class ArgumentParserTests
{
    private static readonly OptionSpec[] Options =
    [
        new("input", "FILE", "input", Required: true),
        new("output", "FILE", "output"),
        new("verbose", null, "a flag"),
    ];

    [Fact]
    public void ValuesMayFollowTheNameOrAnEqualsSign()
    {
        var parsed = ArgumentParser.Parse(["--input", "a.jsonl", "--output=b=c.jsonl", "--verbose"], Options);

        Assert.Equal("a.jsonl", parsed.Value("input"));
        Assert.Equal("b=c.jsonl", parsed.Value("output"));
        Assert.True(parsed.Has("verbose"));
    }

    [Fact]
    public void ADashAloneIsAValueNotAnOption()
    {
        Assert.Equal("-", ArgumentParser.Parse(["--input", "-"], Options).Value("input"));
    }

    [Fact]
    public void AnOptionIsNotTakenAsTheValueOfThePreviousOne()
    {
        var error = Assert.Throws<UsageException>(() => ArgumentParser.Parse(["--input", "--verbose"], Options));

        Assert.Equal("--input needs a value (--input FILE)", error.Message);
    }

    [Fact]
    public void AFlagGivenAValueIsRejected()
    {
        var error = Assert.Throws<UsageException>(() => ArgumentParser.Parse(["--input=x", "--verbose=yes"], Options));

        Assert.Equal("--verbose is a flag and takes no value", error.Message);
    }

    [Fact]
    public void AnAbsentOptionalOptionHasNoValue()
    {
        var parsed = ArgumentParser.Parse(["--input", "x"], Options);

        Assert.False(parsed.Has("output"));
        Assert.Null(parsed.Value("output"));
        Assert.Equal(7, parsed.Int32("output", 7, 1, 10));
    }
}
