using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace GrpoAspire.Model.Tokenization;

/// <summary>Settings of <see cref="BpeTrainer"/>: the vocabulary to reach and the added tokens appended after it.</summary>
public sealed record BpeTrainerOptions
{
    public const int DefaultVocabSize = 512;

    /// <summary>The largest vocabulary (merged tokens are found one merge at a time; Qwen2's is 151,665).</summary>
    public const int LargestVocabSize = 262_144;

    /// <summary>Total vocabulary: the 256 byte tokens, the learned merges and the added tokens.</summary>
    public int VocabSize { get; init; } = DefaultVocabSize;

    /// <summary>A pair seen fewer times than this in the corpus is never merged.</summary>
    public int MinFrequency { get; init; } = 2;

    /// <summary>Added tokens flagged special, right after the learned vocabulary (default Qwen2's).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = QwenAddedTokens.Special;

    /// <summary>Added tokens not flagged special, after <see cref="SpecialTokens"/> (default Qwen2's).</summary>
    public IReadOnlyList<string> NonSpecialTokens { get; init; } = QwenAddedTokens.NonSpecial;

    /// <summary>The smallest <see cref="VocabSize"/>: every byte and every added token, no merge.</summary>
    public int SmallestVocabSize => BpeTrainer.ByteTokenCount + SpecialTokens.Count + NonSpecialTokens.Count;

    public void Validate()
    {
        if (VocabSize < SmallestVocabSize || VocabSize > LargestVocabSize)
        {
            throw new ArgumentException(
                $"the vocabulary size must be from {SmallestVocabSize} ({BpeTrainer.ByteTokenCount} byte tokens + "
                + $"{SpecialTokens.Count + NonSpecialTokens.Count} added tokens) to {LargestVocabSize}, got {VocabSize}");
        }

        if (MinFrequency < 1)
        {
            throw new ArgumentException($"the minimum pair frequency must be at least 1, got {MinFrequency}");
        }

        var added = SpecialTokens.Concat(NonSpecialTokens).ToList();
        if (added.Any(string.IsNullOrEmpty) || added.Distinct(StringComparer.Ordinal).Count() != added.Count)
        {
            throw new ArgumentException("added tokens must be non-empty and distinct");
        }
    }
}

/// <summary>Where training stands after a merge, for progress lines.</summary>
public readonly record struct BpeProgress(int Merges, int MaxMerges, string Left, string Right, long Count);

/// <summary>A trained byte-level BPE: vocabulary in id order (bytes first), merges by priority, added tokens.</summary>
public sealed record TrainedBpe(
    IReadOnlyList<string> Tokens,
    IReadOnlyList<(string Left, string Right)> Merges,
    IReadOnlyList<string> SpecialTokens,
    IReadOnlyList<string> NonSpecialTokens)
{
    /// <summary>Vocabulary plus added tokens (HF <c>len(tokenizer)</c>).</summary>
    public int VocabSize => Tokens.Count + SpecialTokens.Count + NonSpecialTokens.Count;

    /// <summary>Writes a Hugging Face tokenizer.json in Qwen2's layout (see <see cref="TokenizerJsonWriter"/>).</summary>
    public void WriteTokenizerJson(string path) => TokenizerJsonWriter.Write(path, Tokens, Merges, SpecialTokens, NonSpecialTokens);
}

/// <summary>
/// Learns a byte-level BPE the way Qwen2's tokenizer applies one: each text is NFC-normalized with added tokens cut
/// out whole, split by Qwen2's regex (digits one per pre-token), and each pre-token's UTF-8 bytes are merged within
/// that pre-token only; so no merge ever joins two digits or crosses a pre-token. Pre-token frequencies are counted
/// once (<see cref="Add"/>); <see cref="Train"/> then merges the most frequent pair again and again, updating only
/// the pair counts of the words that hold it. Ties go to the pair of smaller ids (left, then right; byte tokens have
/// their byte value as id, merged tokens the order they were made), so the same texts give the same tokenizer.
/// Not thread-safe.
/// </summary>
public sealed class BpeTrainer
{
    /// <summary>Every byte is a token (GPT-2's byte-to-unicode alphabet), ids 0..255 in byte order.</summary>
    public const int ByteTokenCount = 256;

    /// <summary>The most UTF-8 bytes of text <see cref="Add"/> accepts in all.</summary>
    public const long MaxCorpusBytes = 4L << 30;

    /// <summary>The most distinct pre-tokens counted.</summary>
    public const int MaxDistinctWords = 4_000_000;

    /// <summary>Longer pre-tokens (runs of spaces or symbols) are skipped: each merge rescans the words it touches.</summary>
    public const int MaxWordBytes = 256;

    private readonly BpeTrainerOptions _options;
    private readonly Dictionary<string, long> _words = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _wordLookup;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _addedLookup;
    private readonly NfcNormalizer _normalizer;
    private readonly PreTokenizer _preTokenizer;

    public BpeTrainer(BpeTrainerOptions? options = null)
    {
        _options = options ?? new BpeTrainerOptions();
        _options.Validate();
        _wordLookup = _words.GetAlternateLookup<ReadOnlySpan<char>>();
        var added = _options.SpecialTokens.Concat(_options.NonSpecialTokens).ToList();
        _addedLookup = new HashSet<string>(added, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

        // The same chain as QwenTokenizer: added tokens longest first (leftmost-longest), NFC around them, split regex.
        var special = added.OrderByDescending(c => c.Length).ThenBy(c => c, StringComparer.Ordinal)
            .Select((content, index) => (content, index)).ToDictionary(p => p.content, p => p.index, StringComparer.Ordinal);
        var addedRegex = special.Count == 0 ? null
            : new Regex(string.Join('|', special.Keys.Select(Regex.Escape)), RegexOptions.Compiled | RegexOptions.CultureInvariant);
        _normalizer = new NfcNormalizer(addedRegex);
        var split = new Regex(TokenizerJsonWriter.QwenPattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        _preTokenizer = new CodePointPreTokenizer(new RegexPreTokenizer(split, special));
    }

    /// <summary>Texts added so far.</summary>
    public long Texts { get; private set; }

    /// <summary>UTF-8 bytes of the texts added so far (before normalization).</summary>
    public long CorpusBytes { get; private set; }

    /// <summary>Pre-tokens counted (added tokens and skipped pre-tokens excluded).</summary>
    public long PreTokens { get; private set; }

    /// <summary>Pre-tokens over <see cref="MaxWordBytes"/>, left out of the counts.</summary>
    public long SkippedPreTokens { get; private set; }

    public int DistinctWords => _words.Count;

    /// <summary>Counts the pre-tokens of <paramref name="text"/>.</summary>
    public void Add(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (CorpusBytes + bytes > MaxCorpusBytes)
        {
            throw new InvalidOperationException($"the training corpus is limited to {MaxCorpusBytes:N0} bytes of text");
        }

        (CorpusBytes, Texts) = (CorpusBytes + bytes, Texts + 1);
        var normalized = _normalizer.Normalize(text);
        foreach (var (offset, length) in _preTokenizer.PreTokenize(normalized))
        {
            var piece = normalized.AsSpan(offset, length);
            if (_addedLookup.Contains(piece))
            {
                continue; // an added token: one id of its own, never part of a merge
            }

            if (Encoding.UTF8.GetByteCount(piece) > MaxWordBytes)
            {
                SkippedPreTokens++;
                continue;
            }

            if (_wordLookup.TryGetValue(piece, out var count))
            {
                _wordLookup[piece] = count + 1;
            }
            else if (_words.Count < MaxDistinctWords)
            {
                _wordLookup[piece] = 1;
            }
            else
            {
                throw new InvalidOperationException($"the training corpus has more than {MaxDistinctWords:N0} distinct pre-tokens");
            }

            PreTokens++;
        }
    }

    /// <summary>Counts the pre-tokens of every text.</summary>
    public void AddRange(IEnumerable<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        foreach (var text in texts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Add(text);
        }
    }

    /// <summary>
    /// Merges until the vocabulary reaches <see cref="BpeTrainerOptions.VocabSize"/> or no pair is seen
    /// <see cref="BpeTrainerOptions.MinFrequency"/> times. Repeatable: the counted words are not changed.
    /// </summary>
    public TrainedBpe Train(Action<BpeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var words = _words.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => (Encoding.UTF8.GetBytes(w.Key), w.Value));
        var maxTokens = _options.VocabSize - _options.SpecialTokens.Count - _options.NonSpecialTokens.Count;
        var merger = new BpeMerger(words, _options.MinFrequency);
        var merges = merger.Run(maxTokens, progress, cancellationToken);
        return new TrainedBpe(merger.Tokens, merges, _options.SpecialTokens, _options.NonSpecialTokens);
    }
}
