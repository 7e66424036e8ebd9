using System.Text;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>The merge loop of <see cref="BpeTrainer"/> on corpora small enough to count by hand.</summary>
public sealed class BpeTrainerTests
{
    /// <summary>No added tokens, so the vocabulary size is 256 bytes + merges.</summary>
    private static BpeTrainerOptions Plain(int merges, int minFrequency = 1) =>
        new() { VocabSize = BpeTrainer.ByteTokenCount + merges, MinFrequency = minFrequency, SpecialTokens = [], NonSpecialTokens = [] };

    private static TrainedBpe Train(BpeTrainerOptions options, params (string Text, int Times)[] corpus)
    {
        var trainer = new BpeTrainer(options);
        foreach (var (text, times) in corpus)
        {
            for (var i = 0; i < times; i++)
            {
                trainer.Add(text);
            }
        }

        return trainer.Train();
    }

    /// <summary>The text a byte-level token stands for (GPT-2's byte-to-unicode map undone).</summary>
    private static string TextOf(string token)
    {
        var byteOf = TokenizerJsonWriter.ByteToUnicode.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);
        return Encoding.UTF8.GetString([.. token.Select(c => byteOf[c])]);
    }

    [Fact]
    public void LearnsTheMostFrequentPairFirstOnTheTextbookCorpus()
    {
        // Pairs: u+g 20 (hug 10, pug 5, hugs 5), p+u 17, u+n 16, h+u 15. After "ug": u+n 16, h+ug 15, p+u 12 ...
        var bpe = Train(Plain(4), ("hug", 10), ("pug", 5), ("pun", 12), ("bun", 4), ("hugs", 5));

        Assert.Equal([("u", "g"), ("u", "n"), ("h", "ug"), ("p", "un")], bpe.Merges);
        Assert.Equal(["ug", "un", "hug", "pun"], bpe.Tokens.Skip(BpeTrainer.ByteTokenCount));
    }

    [Fact]
    public void TheVocabularyStartsWithTheTwoHundredFiftySixBytesInByteOrder()
    {
        var bpe = Train(Plain(1), ("aa", 2));

        Assert.Equal(TokenizerJsonWriter.ByteTokens, bpe.Tokens.Take(BpeTrainer.ByteTokenCount));
        Assert.Equal("Ġ", bpe.Tokens[' ']);
        Assert.Equal("a", bpe.Tokens['a']);
        Assert.Equal("aa", bpe.Tokens[BpeTrainer.ByteTokenCount]);
    }

    [Fact]
    public void TiesGoToTheSmallerIdsWhicheverOrderTheTextsCameIn()
    {
        var forward = Train(Plain(3), ("cd", 3), ("ab", 3), ("ef", 3));
        var backward = Train(Plain(3), ("ef", 3), ("ab", 3), ("cd", 3));

        Assert.Equal([("a", "b"), ("c", "d"), ("e", "f")], forward.Merges);
        Assert.Equal(forward.Merges, backward.Merges);
    }

    [Fact]
    public void APairSeenFewerTimesThanTheMinimumFrequencyIsNeverMerged()
    {
        var bpe = Train(Plain(10, minFrequency: 3), ("xy", 3), ("zw", 2));

        Assert.Equal([("x", "y")], bpe.Merges);
        Assert.Equal(BpeTrainer.ByteTokenCount + 1, bpe.Tokens.Count);
    }

    [Fact]
    public void RepeatedSymbolsCountAsNonOverlappingPairs()
    {
        // "aaaa" holds a+a three times but merges into two "aa"; then "aa"+"aa" makes "aaaa".
        var bpe = Train(Plain(2), ("aaaa", 1));

        Assert.Equal([("a", "a"), ("aa", "aa")], bpe.Merges);
    }

    [Fact]
    public void NoTokenEverHoldsTwoDigitsInAnyScript()
    {
        var corpus = new[] { ("12345 + 67890 = 80235", 50), ("year 2024, 100%", 50), ("٣٤٥ and ४५६ and １２３", 50), ("3.14159", 50) };
        var bpe = Train(Plain(400), corpus);

        Assert.True(bpe.Merges.Count > 10, $"only {bpe.Merges.Count} merges");
        var multiDigit = bpe.Tokens.Where(t => TextOf(t).EnumerateRunes().Count(Rune.IsDigit) > 1).ToList();
        Assert.Empty(multiDigit);
        Assert.Contains(bpe.Tokens, t => TextOf(t) == "٣"); // the two UTF-8 bytes of one digit do merge
    }

    [Fact]
    public void MergesNeverCrossAPreToken()
    {
        var bpe = Train(Plain(100), ("hello world", 20));

        Assert.Contains("hello", bpe.Tokens);
        Assert.Contains("Ġworld", bpe.Tokens);
        Assert.DoesNotContain(bpe.Tokens, t => t.Contains("oĠ", StringComparison.Ordinal));
    }

    [Fact]
    public void AddedTokensInTheTextAreCutOutAndNeverMerged()
    {
        var options = Plain(100) with { SpecialTokens = ["<|im_start|>", "<|im_end|>"], VocabSize = BpeTrainer.ByteTokenCount + 2 + 100 };
        var bpe = Train(options, ("<|im_start|>user<|im_end|>", 20));

        Assert.Contains("user", bpe.Tokens);
        Assert.DoesNotContain(bpe.Tokens.Skip(BpeTrainer.ByteTokenCount), t => t.Contains('|', StringComparison.Ordinal));
    }

    [Fact]
    public void TrainingStopsAtTheRequestedVocabularySizeIncludingTheAddedTokens()
    {
        var options = new BpeTrainerOptions { VocabSize = 256 + 22 + 10 };
        var bpe = Train(options, ("the quick brown fox jumps over the lazy dog", 10));

        Assert.Equal(10, bpe.Merges.Count);
        Assert.Equal(options.VocabSize, bpe.VocabSize);
        Assert.Equal(QwenAddedTokens.Special, bpe.SpecialTokens);
        Assert.Equal(QwenAddedTokens.NonSpecial, bpe.NonSpecialTokens);
    }

    [Fact]
    public void TrainingTwiceGivesTheSameMergesAndCountsAreKept()
    {
        var trainer = new BpeTrainer(Plain(30));
        trainer.Add("Use [3, 5, 7] once each to make 22.");
        trainer.Add("(3+5)*7 = 56, too high");
        var distinct = trainer.DistinctWords;

        var first = trainer.Train();
        var second = trainer.Train();

        Assert.Equal(first.Merges, second.Merges);
        Assert.Equal(distinct, trainer.DistinctWords);
        Assert.Equal(2, trainer.Texts);
    }

    [Fact]
    public void PreTokensLongerThanTheLimitAreSkippedAndCounted()
    {
        var trainer = new BpeTrainer(Plain(10));
        trainer.Add(new string('x', BpeTrainer.MaxWordBytes + 1) + " ok");

        Assert.Equal(1, trainer.SkippedPreTokens);
        Assert.Equal(1, trainer.PreTokens);
        var bpe = trainer.Train();
        Assert.Equal([("Ġ", "o"), ("Ġo", "k")], bpe.Merges);
    }

    [Theory]
    [InlineData(277, "from 278 (256 byte tokens + 22 added tokens)")]
    [InlineData(BpeTrainerOptions.LargestVocabSize + 1, "to 262144")]
    public void AVocabularyOutsideTheBoundsIsRejectedWithTheBounds(int vocabSize, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => new BpeTrainer(new BpeTrainerOptions { VocabSize = vocabSize }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateAddedTokensAreRejected()
    {
        var options = new BpeTrainerOptions { SpecialTokens = ["<|a|>"], NonSpecialTokens = ["<|a|>"] };
        var error = Assert.Throws<ArgumentException>(() => new BpeTrainer(options));
        Assert.Contains("distinct", error.Message, StringComparison.Ordinal);
    }
}
