using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// Qwen2/Qwen2.5's byte-level BPE tokenizer, read from a Hugging Face tokenizer.json (or vocab.json + merges.txt) and
/// run by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>: NFC, then added tokens (&lt;|im_start|&gt;, ...)
/// cut out whole, then the file's split regex, then byte-level BPE. Ids match Hugging Face tokenizers
/// (tests/fixtures/tokenizer). Thread-safe after construction.
/// </summary>
public sealed class QwenTokenizer
{
    /// <summary>Qwen2.5-Instruct's end of turn (tokenizer_config.json <c>eos_token</c>).</summary>
    public const string DefaultEosToken = "<|im_end|>";

    /// <summary>Qwen2.5's padding token (tokenizer_config.json <c>pad_token</c>).</summary>
    public const string DefaultPadToken = "<|endoftext|>";

    private readonly BpeTokenizer _bpe;
    private readonly IReadOnlyDictionary<string, int> _vocabulary;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly HashSet<int> _specialIds;

    private QwenTokenizer(TokenizerDefinition definition, string? eosToken, string? padToken)
    {
        _addedByContent = [];
        foreach (var token in definition.AddedTokens)
        {
            _addedByContent[token.Content] = token.Id;
        }

        AddedTokens = definition.AddedTokens;
        _specialIds = [.. definition.AddedTokens.Where(t => t.Special).Select(t => t.Id)];

        // Longest first: the alternation then matches leftmost-longest, as HF's Aho-Corasick matcher does.
        var special = new Dictionary<string, int>();
        foreach (var content in _addedByContent.Keys.OrderByDescending(c => c.Length).ThenBy(c => c, StringComparer.Ordinal))
        {
            special[content] = _addedByContent[content];
        }

        var splitRegex = new Regex(definition.Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        var addedRegex = special.Count == 0 ? null
            : new Regex(string.Join('|', special.Keys.Select(Regex.Escape)), RegexOptions.Compiled | RegexOptions.CultureInvariant);
        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(definition.Vocabulary)
            {
                Merges = definition.Merges,
                SpecialTokens = special,
                PreTokenizer = new CodePointPreTokenizer(new RegexPreTokenizer(splitRegex, special)),
                Normalizer = definition.NormalizeNfc ? new NfcNormalizer(addedRegex) : null,
                ByteLevel = true,
                UnknownToken = definition.UnknownToken,
                ContinuingSubwordPrefix = definition.ContinuingSubwordPrefix,
                EndOfWordSuffix = definition.EndOfWordSuffix,
                FuseUnknownTokens = definition.FuseUnknownTokens,
            });
        }
        catch (InvalidOperationException e)
        {
            // e.g. a merge whose parts or result are not in the vocabulary
            throw new InvalidDataException($"{definition.Source}: inconsistent BPE model ({e.Message})", e);
        }

        _vocabulary = _bpe.Vocabulary;
        VocabSize = _vocabulary.Count + _addedByContent.Keys.Count(content => !_vocabulary.ContainsKey(content));
        EosToken = eosToken ?? DefaultEosToken;
        PadToken = padToken ?? DefaultPadToken;
    }

    /// <summary>Tokens added on top of the BPE vocabulary, with their ids and <c>special</c> flags.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>BPE vocabulary plus added tokens (HF <c>len(tokenizer)</c>; the model's embedding may be larger).</summary>
    public int VocabSize { get; }

    public string EosToken { get; }

    public string PadToken { get; }

    public int EosTokenId => TokenToId(EosToken) ?? throw MissingToken("eos", EosToken);

    public int PadTokenId => TokenToId(PadToken) ?? throw MissingToken("pad", PadToken);

    /// <summary>Reads a Hugging Face tokenizer.json.</summary>
    public static QwenTokenizer FromFile(string tokenizerJsonPath, string? eosToken = null, string? padToken = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerJsonPath);
        return new QwenTokenizer(TokenizerJsonReader.Read(tokenizerJsonPath), eosToken, padToken);
    }

    /// <summary>Reads vocab.json + merges.txt, with added tokens from tokenizer_config.json's <c>added_tokens_decoder</c>.</summary>
    public static QwenTokenizer FromVocabAndMerges(
        string vocabJsonPath, string mergesTxtPath, string? tokenizerConfigPath = null, string? eosToken = null, string? padToken = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabJsonPath);
        ArgumentException.ThrowIfNullOrEmpty(mergesTxtPath);
        return new QwenTokenizer(VocabMergesReader.Read(vocabJsonPath, mergesTxtPath, tokenizerConfigPath), eosToken, padToken);
    }

    /// <summary>
    /// Reads a model directory: tokenizer.json if present, else vocab.json + merges.txt; eos and pad tokens (and, for
    /// vocab.json, the added tokens) from tokenizer_config.json when present.
    /// </summary>
    public static QwenTokenizer FromDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"tokenizer directory '{directory}' does not exist");
        }

        string configPath = Path.Combine(directory, "tokenizer_config.json");
        var config = File.Exists(configPath) ? TokenizerConfig.Read(configPath) : null;
        string tokenizerJson = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(tokenizerJson))
        {
            return FromFile(tokenizerJson, config?.EosToken, config?.PadToken);
        }

        string vocab = Path.Combine(directory, "vocab.json"), merges = Path.Combine(directory, "merges.txt");
        return File.Exists(vocab) && File.Exists(merges)
            ? FromVocabAndMerges(vocab, merges, config is null ? null : configPath, config?.EosToken, config?.PadToken)
            : throw new FileNotFoundException($"'{directory}' has neither tokenizer.json nor vocab.json + merges.txt");
    }

    /// <summary>Token ids of <paramref name="text"/>; added tokens written in the text become their single ids.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _bpe.EncodeToIds(text);
    }

    /// <summary>Text of <paramref name="ids"/>; invalid UTF-8 (a character cut between ids) becomes U+FFFD, as in HF.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);

        // Only added tokens flagged special are skipped (HF); Microsoft.ML.Tokenizers would skip every added token.
        return _bpe.Decode(skipSpecialTokens ? ids.Where(id => !_specialIds.Contains(id)) : ids, considerSpecialTokens: true);
    }

    /// <summary>The id of a vocabulary or added token, or null.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _addedByContent.TryGetValue(token, out int added) ? added
            : _vocabulary.TryGetValue(token, out int id) ? id
            : null;
    }

    /// <summary>Renders Qwen2.5's ChatML chat template; see <see cref="QwenChatTemplate.Render"/>.</summary>
    public string ApplyChatTemplate(
        IReadOnlyList<(string Role, string Content)> messages, bool addGenerationPrompt = false, bool continueFinalMessage = false) =>
        QwenChatTemplate.Render(messages, addGenerationPrompt, continueFinalMessage);

    private static InvalidOperationException MissingToken(string kind, string token) =>
        new($"the {kind} token '{token}' is neither in the vocabulary nor an added token");
}
