using System.Text;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Countdown.Traces;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Cli.Tokenizers;

/// <summary>What <c>grpo tokenizer train</c> made, with how it shortens Countdown text.</summary>
public sealed record TokenizerTrainingResult(
    TrainedBpe Bpe, long CorpusBytes, double TokensPerTrace, double BytesPerTrace, double TokensPerPrompt, double BytesPerPrompt);

/// <summary>
/// One run of <c>grpo tokenizer train</c>: counts the pre-tokens of the Countdown corpus (and of the input file),
/// learns the merges, writes tokenizer.json, reads it back with <see cref="QwenTokenizer"/> and measures it on
/// tasks that are not in the corpus.
/// </summary>
public sealed record TokenizerTraining
{
    /// <summary>Tasks the summary measures tokens per trace on (a task stream apart from the corpus's).</summary>
    public const int EvalTasks = 500;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public required BpeTrainerOptions Trainer { get; init; }

    public required int Tasks { get; init; }

    public required ulong Seed { get; init; }

    public required IReadOnlyList<PromptTemplate> Templates { get; init; }

    /// <summary>A UTF-8 text file whose lines join the corpus, or null.</summary>
    public string? InputPath { get; init; }

    /// <summary>Trains, writes <paramref name="outputPath"/> (replacing it) and measures; progress goes to <paramref name="log"/>.</summary>
    public TokenizerTrainingResult Run(string outputPath, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(log);
        var trainer = new BpeTrainer(Trainer);
        var templateNames = string.Join(",", Templates.Select(t => t.Name));
        log.WriteLine($"tokenizer train: {Tasks:N0} Countdown tasks (templates {templateNames}, seed {Seed})"
            + (InputPath is null ? string.Empty : $" and the lines of {InputPath}"));
        foreach (var example in CountdownCorpus.Generate(Tasks, Seed, Templates))
        {
            cancellationToken.ThrowIfCancellationRequested();
            trainer.Add(example.Prompt);
            trainer.Add(example.Completion);
        }

        if (InputPath is { } path)
        {
            AddLines(trainer, path, cancellationToken);
        }

        if (trainer.PreTokens == 0)
        {
            throw new InvalidOperationException("the corpus has no text to learn from");
        }

        log.WriteLine($"corpus: {trainer.Texts:N0} texts, {trainer.CorpusBytes:N0} bytes, {trainer.PreTokens:N0} pre-tokens "
            + $"({trainer.DistinctWords:N0} distinct" + (trainer.SkippedPreTokens > 0 ? $", {trainer.SkippedPreTokens:N0} too long and left out)" : ")"));
        var maxMerges = Trainer.VocabSize - Trainer.SmallestVocabSize;
        var every = Math.Max(1, maxMerges / 10);
        var bpe = trainer.Train(
            p =>
            {
                if (p.Merges % every == 0 || p.Merges == p.MaxMerges)
                {
                    log.WriteLine($"merges {p.Merges}/{p.MaxMerges}: '{p.Left}' + '{p.Right}' ({p.Count:N0} times)");
                }
            },
            cancellationToken);
        if (bpe.Tokens.Count < Trainer.VocabSize - bpe.SpecialTokens.Count - bpe.NonSpecialTokens.Count)
        {
            log.WriteLine($"stopped after {bpe.Merges.Count} merges: no pair left that occurs at least {Trainer.MinFrequency} times");
        }

        Write(bpe, outputPath);
        var (tokensPerTrace, bytesPerTrace, tokensPerPrompt, bytesPerPrompt) = Measure(QwenTokenizer.FromFile(outputPath));
        return new TokenizerTrainingResult(bpe, trainer.CorpusBytes, tokensPerTrace, bytesPerTrace, tokensPerPrompt, bytesPerPrompt);
    }

    private static void AddLines(BpeTrainer trainer, string path, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var line in File.ReadLines(path, StrictUtf8))
            {
                cancellationToken.ThrowIfCancellationRequested();
                trainer.Add(line);
            }
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{path} is not valid UTF-8 ({e.Message})", e);
        }
    }

    /// <summary>Writes beside the target first, so an interrupted run never leaves half a tokenizer.json.</summary>
    private static void Write(TrainedBpe bpe, string outputPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".tokenizer-{Guid.NewGuid():N}.json.tmp");
        try
        {
            bpe.WriteTokenizerJson(temporary);
            File.Move(temporary, outputPath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private (double TokensPerTrace, double BytesPerTrace, double TokensPerPrompt, double BytesPerPrompt) Measure(QwenTokenizer tokenizer)
    {
        long traceTokens = 0, traceBytes = 0, promptTokens = 0, promptBytes = 0;
        foreach (var example in CountdownCorpus.Generate(EvalTasks, SolverTraces.ExampleSeed(Seed, -1), Templates))
        {
            traceTokens += tokenizer.Encode(example.Completion).Count;
            traceBytes += Encoding.UTF8.GetByteCount(example.Completion);
            promptTokens += tokenizer.Encode(example.Prompt).Count;
            promptBytes += Encoding.UTF8.GetByteCount(example.Prompt);
        }

        return ((double)traceTokens / EvalTasks, (double)traceBytes / EvalTasks, (double)promptTokens / EvalTasks, (double)promptBytes / EvalTasks);
    }
}
