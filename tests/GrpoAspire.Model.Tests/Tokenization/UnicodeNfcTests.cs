using GrpoAspire.Model.Tokenization.Unicode;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>The managed NFC that stands in for string.Normalize, which InvariantGlobalization turns off.</summary>
public sealed class UnicodeNfcTests
{
    [Fact]
    public void NormalizeMatchesJavaScriptsNfcForEveryFixtureText()
    {
        var mismatches = QwenFixture.Texts.Where(t => UnicodeNfc.Normalize(t.Text) != t.Decoded).Select(t => t.Text).ToList();
        Assert.Empty(mismatches);
        Assert.True(QwenFixture.Texts.Count(t => t.Nfc is not null) >= 10, "the fixture should exercise NFC");
    }

    [Theory]
    [InlineData("e\u0301", "\u00e9")] // composition
    [InlineData("\u1100\u1161\u11a8", "\uac01")] // Hangul L V T
    [InlineData("q\u0307\u0323", "q\u0323\u0307")] // canonical ordering, nothing to compose
    [InlineData("\u0958", "\u0915\u093c")] // composition exclusion
    [InlineData("\u212b", "\u00c5")] // singleton
    [InlineData("a\u0301\u0301", "\u00e1\u0301")] // the second acute is blocked
    [InlineData("\ud800x\u0301", "\ud800x\u0301")] // a lone surrogate passes; x has no composite with acute
    [InlineData("plain ASCII", "plain ASCII")]
    public void NormalizeComposesOrdersAndExcludesAsUax15(string input, string expected)
    {
        Assert.Equal(expected, UnicodeNfc.Normalize(input));
    }

    [Fact]
    public void TextAlreadyInNfcIsReturnedWithoutCopying()
    {
        const string text = "中文 and English 123 😀";
        Assert.Same(text, UnicodeNfc.Normalize(text));
    }
}
