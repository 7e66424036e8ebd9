using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Cli.Tokenizers;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Countdown.Traces;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Cli.Commands;

/// <summary><c>grpo tokenizer train</c>: a byte-level BPE learned on Countdown text, written as a Hugging Face tokenizer.json.</summary>
public sealed class TokenizerTrainCommand : ICommand
{
    public const int DefaultTasks = 20_000;

    /// <summary>The largest <c>--input</c> file.</summary>
    public const long MaxInputBytes = 1L << 30;

    public string Name => "tokenizer train";

    public string Summary => "Learn a byte-level BPE tokenizer on Countdown text; write a Hugging Face tokenizer.json (Qwen2 layout).";

    /// <summary>Built on first use: the template list reads the built-in templates, which other verbs' start-up need not pay.</summary>
    public IReadOnlyList<OptionSpec> Options => field ??=
    [
        new("output", "DIR", "folder for tokenizer.json (created if missing)", Required: true),
        new("vocab-size", "N",
            $"total vocabulary: 256 bytes + merges + {QwenAddedTokens.All.Count} added tokens (default {BpeTrainerOptions.DefaultVocabSize}, "
            + $"from {new BpeTrainerOptions().SmallestVocabSize} to {BpeTrainerOptions.LargestVocabSize})"),
        new("tasks", "N", $"generated Countdown tasks in the corpus (default {DefaultTasks}, at most {CountdownCorpus.MaxTasks})"),
        new("seed", "N", "seed of the tasks and traces (default 42)"),
        new("template", "NAME[,NAME]",
            $"prompt templates, used in turn (default {PromptTemplate.Compact}); valid: {string.Join(", ", PromptTemplate.BuiltIn.Keys.Order())}"),
        new("input", "FILE", "also learn from this UTF-8 text file, one text per line"),
        new("min-frequency", "N", "never merge a pair seen fewer times (default 2)"),
        new("force", null, "overwrite an existing DIR/tokenizer.json"),
    ];

    public string Details => $"""
        Corpus: for each generated task, its prompt (rendered with the template) and a solver trace completing it
        (trial equations with their values and checks, </think>, <answer>EQUATION</answer>), deterministic from --seed;
        then the lines of --input. Text is split as Qwen2 splits it (NFC, added tokens whole, Qwen2's regex: digits one
        per pre-token, so no token ever holds two digits) and pairs of bytes are merged within pre-tokens only, most
        frequent first (ties: smaller ids). Pre-tokens over {BpeTrainer.MaxWordBytes} bytes are left out.

        tokenizer.json: ids 0-255 are the bytes (GPT-2's byte-to-unicode alphabet), then the merged tokens, then Qwen2's
        {QwenAddedTokens.All.Count} added tokens (<|endoftext|>, <|im_start|>, <|im_end|>, ...). It loads in this project's
        QwenTokenizer and in Hugging Face tokenizers. A model using it needs vocab_size at least the vocabulary size.

        Progress goes to stderr; one summary line to stdout: the vocabulary, the corpus, and tokens against bytes per
        trace and per prompt on {TokenizerTraining.EvalTasks} further tasks (a byte-level tokenizer has one token per byte).

        Exit codes:
          0  trained and written
          2  bad arguments, an unreadable --input, an existing tokenizer.json without --force, an unwritable --output

        Example:
          grpo tokenizer train --output runs/tokenizer-512 --vocab-size 512 --template compact,seed-r1
        """;

    public Task<int> RunAsync(ParsedArguments arguments, CliConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(console);
        var defaults = new BpeTrainerOptions();
        var trainer = new BpeTrainerOptions
        {
            VocabSize = arguments.Int32("vocab-size", defaults.VocabSize, defaults.SmallestVocabSize, BpeTrainerOptions.LargestVocabSize),
            MinFrequency = arguments.Int32("min-frequency", defaults.MinFrequency, 1, int.MaxValue),
        };
        var training = new TokenizerTraining
        {
            Trainer = trainer,
            Tasks = arguments.Int32("tasks", DefaultTasks, 0, CountdownCorpus.MaxTasks),
            Seed = (ulong)arguments.Int32("seed", 42, 0, int.MaxValue),
            Templates = Templates(arguments.Value("template") ?? PromptTemplate.Compact),
            InputPath = arguments.Value("input"),
        };
        if (training.Tasks == 0 && training.InputPath is null)
        {
            throw new UsageException("nothing to learn from: --tasks 0 needs --input FILE");
        }

        var outputPath = Path.Combine(arguments.Required("output"), "tokenizer.json");
        if (Directory.Exists(outputPath) || (File.Exists(outputPath) && !arguments.Has("force")))
        {
            throw new UsageException($"{outputPath} already exists; pass --force to overwrite it");
        }

        CheckInput(training.InputPath);
        TokenizerTrainingResult result;
        try
        {
            result = training.Run(outputPath, console.Error, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException)
        {
            throw new UsageException(e.Message);
        }

        var bpe = result.Bpe;
        console.Out.WriteLine(
            $"wrote {outputPath}: vocab {bpe.VocabSize} ({BpeTrainer.ByteTokenCount} bytes + {bpe.Tokens.Count - BpeTrainer.ByteTokenCount} merged "
            + $"+ {bpe.SpecialTokens.Count + bpe.NonSpecialTokens.Count} added), {bpe.Merges.Count} merges; corpus {training.Tasks:N0} tasks, "
            + $"{result.CorpusBytes:N0} bytes; per trace {result.TokensPerTrace:F1} tokens vs {result.BytesPerTrace:F1} bytes "
            + $"({result.BytesPerTrace / result.TokensPerTrace:F2} bytes/token), per prompt {result.TokensPerPrompt:F1} tokens vs {result.BytesPerPrompt:F1} bytes");
        return Task.FromResult(ExitCodes.Success);
    }

    private static PromptTemplate[] Templates(string names)
    {
        var list = names.Split(',', StringSplitOptions.TrimEntries);
        if (list.Any(n => n.Length == 0) || list.Distinct(StringComparer.Ordinal).Count() != list.Length)
        {
            throw new UsageException($"--template must be distinct template names separated by commas, got '{names}'");
        }

        return [.. list.Select(name => PromptTemplate.BuiltIn.TryGetValue(name, out var template) ? template
            : throw new UsageException($"unknown prompt template '{name}'; valid: {string.Join(", ", PromptTemplate.BuiltIn.Keys.Order())}"))];
    }

    private static void CheckInput(string? path)
    {
        if (path is null)
        {
            return;
        }

        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new UsageException($"--input: cannot read '{path}': no such file");
        }

        if (file.Length > MaxInputBytes)
        {
            throw new UsageException($"--input: '{path}' has {file.Length:N0} bytes, more than the {MaxInputBytes:N0} allowed");
        }
    }
}
