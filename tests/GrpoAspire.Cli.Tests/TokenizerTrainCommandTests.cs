using System.Text;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Countdown.Traces;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Cli.Tests;

/// <summary>One <c>grpo tokenizer train</c> run on a small Countdown corpus, shared by the tests that read its output.</summary>
public sealed class TrainedTokenizerRun : IDisposable
{
    public static readonly string[] Arguments = ["--tasks", "300", "--template", "compact,seed-r1", "--vocab-size", "400", "--seed", "3"];

    public TrainedTokenizerRun()
    {
        Folder = Directory.CreateTempSubdirectory("grpo-tokenizer-cli-").FullName;
        Result = CliRun.RunAsync(string.Empty, ["tokenizer", "train", "--output", Path.Combine(Folder, "run"), .. Arguments]).GetAwaiter().GetResult();
    }

    public string Folder { get; }

    internal CliResult Result { get; }

    public string TokenizerPath => Path.Combine(Folder, "run", "tokenizer.json");

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary><c>grpo tokenizer train</c>: the file it writes, what it refuses, and the group's help.</summary>
public sealed class TokenizerTrainCommandTests(TrainedTokenizerRun run) : IClassFixture<TrainedTokenizerRun>, IDisposable
{
    private static readonly PromptTemplate[] Templates = [PromptTemplate.Get(PromptTemplate.Compact), PromptTemplate.Get(PromptTemplate.SeedR1)];

    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-tokenizer-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Countdown examples the run never saw (another seed).</summary>
    private static List<CorpusExample> Unseen() => [.. CountdownCorpus.Generate(200, 1234, Templates)];

    [Fact]
    public void TheRunWritesTokenizerJsonAndOneSummaryLine()
    {
        Assert.True(run.Result.ExitCode == ExitCodes.Success, run.Result.Error);
        var summary = Assert.Single(run.Result.OutLines);
        Assert.StartsWith($"wrote {run.TokenizerPath}: vocab 400 (256 bytes + 122 merged + 22 added), 122 merges; corpus 300 tasks", summary);
        Assert.Matches(@"per trace \d+\.\d tokens vs \d+\.\d bytes", summary);
        Assert.Contains("merges 12/122:", run.Result.Error, StringComparison.Ordinal);
        Assert.Equal(400, QwenTokenizer.FromFile(run.TokenizerPath).VocabSize);
    }

    [Fact]
    public void CountdownPromptsAndTracesRoundTripThroughTheWrittenTokenizer()
    {
        var tokenizer = QwenTokenizer.FromFile(run.TokenizerPath);
        foreach (var example in Unseen())
        {
            Assert.Equal(example.Completion, tokenizer.Decode(tokenizer.Encode(example.Completion)));
            Assert.Equal(example.Prompt, tokenizer.Decode(tokenizer.Encode(example.Prompt)));
        }
    }

    [Fact]
    public void TheLearnedTokenizerMakesCountdownTracesAtLeastAQuarterShorterThanTheByteLevelOne()
    {
        var learned = QwenTokenizer.FromFile(run.TokenizerPath);
        var byteLevelPath = Path.Combine(_folder, "byte-level.json");
        TokenizerJsonWriter.WriteByteLevel(byteLevelPath);
        var byteLevel = QwenTokenizer.FromFile(byteLevelPath);

        var examples = Unseen();
        long learnedTokens = examples.Sum(e => learned.Encode(e.Completion).Count);
        long byteTokens = examples.Sum(e => byteLevel.Encode(e.Completion).Count);
        Assert.Equal(examples.Sum(e => Encoding.UTF8.GetByteCount(e.Completion)), byteTokens);
        Assert.True(learnedTokens < byteTokens * 3 / 4, $"{learnedTokens} tokens against {byteTokens} byte-level tokens");
    }

    [Fact]
    public void ChatMlSpecialTokensInAPromptEncodeToTheirIdsAfterTheVocabulary()
    {
        var tokenizer = QwenTokenizer.FromFile(run.TokenizerPath);
        var seedR1 = Unseen().First(e => e.TemplateName == PromptTemplate.SeedR1);
        var ids = tokenizer.Encode(seedR1.Prompt);

        Assert.Equal(400 - 22 + 1, ids[0]); // <|im_start|>
        Assert.Equal(3, ids.Count(id => id == 400 - 22 + 1)); // system, user, assistant turns
        Assert.Equal(2, ids.Count(id => id == 400 - 22 + 2)); // <|im_end|> closes the system and user turns
        Assert.Equal(400 - 22 + 2, tokenizer.EosTokenId);
        Assert.Equal(400 - 22, tokenizer.PadTokenId);
    }

    [Fact]
    public async Task TheSameArgumentsWriteTheSameBytes()
    {
        var again = await CliRun.RunAsync(string.Empty, ["tokenizer", "train", "--output", _folder, .. TrainedTokenizerRun.Arguments]);

        Assert.True(again.ExitCode == ExitCodes.Success, again.Error);
        Assert.Equal(File.ReadAllBytes(run.TokenizerPath), File.ReadAllBytes(Path.Combine(_folder, "tokenizer.json")));
    }

    [Fact]
    public async Task AnExistingTokenizerJsonIsKeptUnlessForceIsGiven()
    {
        var path = Path.Combine(_folder, "tokenizer.json");
        File.WriteAllText(path, "{}");

        var refused = await CliRun.RunAsync(string.Empty, "tokenizer", "train", "--output", _folder, "--tasks", "20", "--vocab-size", "290");
        Assert.Equal(ExitCodes.Usage, refused.ExitCode);
        Assert.Contains($"grpo tokenizer train: {path} already exists; pass --force to overwrite it", refused.Error, StringComparison.Ordinal);
        Assert.Equal("{}", File.ReadAllText(path));

        var forced = await CliRun.RunAsync(string.Empty, "tokenizer", "train", "--output", _folder, "--tasks", "20", "--vocab-size", "290", "--force");
        Assert.True(forced.ExitCode == ExitCodes.Success, forced.Error);
        Assert.Equal(290, QwenTokenizer.FromFile(path).VocabSize);
        Assert.Single(Directory.GetFiles(_folder)); // no temporary file left beside it
    }

    [Fact]
    public async Task TheLinesOfTheInputFileJoinTheCorpus()
    {
        var input = Path.Combine(_folder, "extra.txt");
        File.WriteAllLines(input, Enumerable.Repeat("the zebra crossing", 30));

        var result = await CliRun.RunAsync(string.Empty, "tokenizer", "train", "--output", _folder, "--tasks", "10", "--input", input, "--vocab-size", "600");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        var tokenizer = QwenTokenizer.FromFile(Path.Combine(_folder, "tokenizer.json"));
        Assert.NotNull(tokenizer.TokenToId("Ġzebra"));
        Assert.Equal(2, tokenizer.Encode(" zebra crossing").Count);
    }

    [Theory]
    [InlineData("--output DIR is required")]
    [InlineData("--vocab-size must be an integer from 278 to 262144, got '100'", "--vocab-size", "100")]
    [InlineData("--tasks must be an integer from 0 to 1000000, got '2000000'", "--tasks", "2000000")]
    [InlineData("--min-frequency must be an integer from 1 to", "--min-frequency", "0")]
    [InlineData("unknown prompt template 'r1'; valid: compact, nearest-compact, seed-r1, tinyzero-base", "--template", "r1")]
    [InlineData("--template must be distinct template names separated by commas, got 'compact,,seed-r1'", "--template", "compact,,seed-r1")]
    [InlineData("nothing to learn from: --tasks 0 needs --input FILE", "--tasks", "0")]
    [InlineData("--input: cannot read '/nonexistent/corpus.txt': no such file", "--input", "/nonexistent/corpus.txt")]
    [InlineData("--force is a flag and takes no value", "--force=yes")]
    public async Task BadArgumentsExitWithUsageAndSayWhatIsWrong(string message, params string[] extra)
    {
        var output = Path.Combine(_folder, "never");
        string[] args = message.StartsWith("--output", StringComparison.Ordinal)
            ? ["tokenizer", "train", .. extra]
            : ["tokenizer", "train", "--output", output, .. extra];

        var result = await CliRun.RunAsync(string.Empty, args);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains($"grpo tokenizer train: {message}", result.Error, StringComparison.Ordinal);
        Assert.Contains("Usage: grpo tokenizer train --output DIR", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Out);
        Assert.False(Directory.Exists(output), "a rejected run must not create its folder");
    }

    [Fact]
    public async Task AnInputFileThatIsNotUtf8IsAUsageError()
    {
        var input = Path.Combine(_folder, "latin1.txt");
        File.WriteAllBytes(input, [0x63, 0x61, 0x66, 0xE9, 0x0A]); // "café" in Latin-1

        var result = await CliRun.RunAsync(string.Empty, "tokenizer", "train", "--output", _folder, "--tasks", "0", "--input", input);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("latin1.txt is not valid UTF-8", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "tokenizer.json")));
    }

    [Theory]
    [InlineData("tokenizer", "--help")]
    [InlineData("help", "tokenizer")]
    public async Task TheGroupHelpListsTheTrainSubCommand(params string[] args)
    {
        var result = await CliRun.RunAsync(string.Empty, args);

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("Usage: grpo tokenizer <sub-command> [options]", result.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^  train\s+Learn a byte-level BPE tokenizer", result.Out);
        Assert.Empty(result.Error);
    }

    [Theory]
    [InlineData("tokenizer", "train", "--help")]
    [InlineData("help", "tokenizer", "train")]
    public async Task TheSubCommandHelpListsItsOptions(params string[] args)
    {
        var result = await CliRun.RunAsync(string.Empty, args);

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("Usage: grpo tokenizer train --output DIR [--vocab-size N]", result.Out, StringComparison.Ordinal);
        foreach (var option in new[] { "--tasks N", "--seed N", "--template NAME[,NAME]", "--input FILE", "--min-frequency N", "--force" })
        {
            Assert.Contains(option, result.Out, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("grpo tokenizer: no sub-command given", "tokenizer")]
    [InlineData("grpo tokenizer: unknown sub-command 'trian'", "tokenizer", "trian", "--output", "x")]
    public async Task AMissingOrUnknownSubCommandIsAUsageErrorWithTheGroupHelp(string message, params string[] args)
    {
        var result = await CliRun.RunAsync(string.Empty, args);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Contains("Usage: grpo tokenizer <sub-command>", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Out);
    }

    [Fact]
    public async Task TheGeneralHelpListsTheTokenizerGroup()
    {
        var result = await CliRun.RunAsync(string.Empty, "--help");

        Assert.Matches(@"(?m)^  tokenizer\s+Tokenizers for Countdown models", result.Out);
    }
}
