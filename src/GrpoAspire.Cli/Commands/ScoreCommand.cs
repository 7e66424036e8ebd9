using System.Text;
using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Cli.Scoring;

namespace GrpoAspire.Cli.Commands;

/// <summary><c>grpo score</c>: JSONL completions in, one JSONL reward line per input line out.</summary>
public sealed class ScoreCommand : ICommand
{
    private const int StreamBufferSize = 1 << 16;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string Name => "score";

    public string Summary => "Score Countdown completions with the recipe's reward functions (JSONL in, JSONL out).";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("input", "FILE", "JSONL input; '-' reads standard input", Required: true),
        new("output", "FILE", "where the JSONL results go (default: standard output)"),
        new("reward", RewardOption.Syntax,
            "reward functions and their weights (default: format=1,equation=1)\n"
            + $"names: {RewardOption.ValidNames}; a name without '=' has weight 1"),
        new("max-completion-bytes", "N",
            $"longest completion in UTF-8 bytes (default {ScoreOptions.DefaultMaxCompletionBytes}, "
            + $"at most {ScoreOptions.LargestMaxCompletionBytes})"),
    ];

    public string Details => """
        Input: one JSON object per line; blank lines are skipped, other properties ignored:
          {"completion": "...", "nums": [44, 19, 35], "target": 98, "id": "any JSON value (optional)"}
        "completion" is the text after the prompt's "<think>" prefill, scored as "<think>" + completion.

        Output: one line per non-blank input line, in input order, with a key per reward function:
          {"line": 1, "id": ..., "format": 1.0, "equation": 1.0, "total": 2.0, "equation_verdict": "correct"}
          {"line": 2, "error": "..."}
        "line" is the 1-based line number in the input; "id" appears when the input line has one.
        A line is an error when it is not a JSON object, lacks "completion", "nums" or "target", has more
        than 6 numbers, a negative number, non-integer numbers, or a completion over the byte limit.

        Exit codes:
          0  every line was scored
          1  some lines were errors (every other line is still scored)
          2  usage error: unknown option, bad value, input or output file that cannot be opened
        """;

    public async Task<int> RunAsync(ParsedArguments arguments, CliConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(console);
        var options = new ScoreOptions
        {
            Weights = arguments.Value("reward") is { } reward ? RewardOption.Parse(reward) : ScoreOptions.Default.Weights,
            MaxCompletionBytes = arguments.Int32(
                "max-completion-bytes", ScoreOptions.DefaultMaxCompletionBytes, 1, ScoreOptions.LargestMaxCompletionBytes),
        };
        var inputPath = arguments.Required("input");
        var outputPath = arguments.Value("output");
        TextReader? input = null;
        TextWriter? output = null;
        try
        {
            input = inputPath == "-" ? console.In : Open(inputPath);
            output = outputPath is null or "-" ? console.Out : Create(outputPath);
            var summary = await ScoreAsync(input, output, options, cancellationToken);
            if (summary.Errors > 0)
            {
                console.Error.WriteLine(
                    $"grpo score: {summary.Errors} of {summary.Lines} lines could not be scored (see their \"error\")");
                return ExitCodes.PartialFailure;
            }

            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            console.Error.WriteLine($"grpo score: {e.Message}");
            return ExitCodes.Usage;
        }
        finally
        {
            if (!ReferenceEquals(input, console.In))
            {
                input?.Dispose();
            }

            if (output is not null && !ReferenceEquals(output, console.Out))
            {
                await output.DisposeAsync();
            }
        }
    }

    /// <summary>Scores every line of <paramref name="input"/> into <paramref name="output"/> (the in-process API).</summary>
    public static Task<ScoreSummary> ScoreAsync(
        TextReader input, TextWriter output, ScoreOptions options, CancellationToken cancellationToken = default) =>
        ScoreRunner.RunAsync(input, output, options, cancellationToken);

    private static StreamReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, StreamBufferSize, FileOptions.SequentialScan),
            Utf8, detectEncodingFromByteOrderMarks: true, StreamBufferSize);

    private static StreamWriter Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, StreamBufferSize), Utf8, StreamBufferSize);
}
