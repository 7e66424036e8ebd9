using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Cli.Scoring;

namespace GrpoAspire.Cli.Commands;

/// <summary><c>grpo score</c>: JSONL completions in, one JSONL reward line per input line out.</summary>
public sealed class ScoreCommand : ICommand
{
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
        Input is UTF-8 (a byte order mark is skipped; invalid bytes read as U+FFFD). Lines are scored in parallel
        blocks and written in input order.
        A line is an error when it is not a JSON object, lacks "completion", "nums" or "target", has more
        than 6 numbers, a negative number, non-integer numbers, or a completion over the byte limit.

        Exit codes:
          0  every line was scored
          1  some lines were errors (every other line is still scored)
          2  usage error: unknown option, bad value, input or output file that cannot be opened, UTF-16 input
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
        Stream? input = null;
        Stream? output = null;
        try
        {
            input = inputPath == "-" ? console.In : Open(inputPath);
            output = outputPath is null or "-" ? console.OutStream : Create(outputPath);
            var summary = await ScoreRunner.RunAsync(input, output, options, cancellationToken);
            if (summary.Errors > 0)
            {
                console.Error.WriteLine(
                    $"grpo score: {summary.Errors} of {summary.Lines} lines could not be scored (see their \"error\")");
                return ExitCodes.PartialFailure;
            }

            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            console.Error.WriteLine($"grpo score: {e.Message}");
            return ExitCodes.Usage;
        }
        finally
        {
            if (input is not null && !ReferenceEquals(input, console.In))
            {
                await input.DisposeAsync();
            }

            if (output is not null && !ReferenceEquals(output, console.OutStream))
            {
                await output.DisposeAsync();
            }
        }
    }

    private static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);

    private static FileStream Create(string path) =>
        new(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
}
