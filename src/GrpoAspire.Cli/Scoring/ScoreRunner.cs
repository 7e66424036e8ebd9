using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Cli.Scoring;

/// <summary>
/// The loop of <c>grpo score</c>: read a line, parse it, score it with <see cref="CountdownScorer"/> (the
/// reward service's code path), write its result line, in input order, on one thread.
/// </summary>
public static class ScoreRunner
{
    public static async Task<ScoreSummary> RunAsync(
        TextReader input, TextWriter output, ScoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var scorer = new CountdownScorer(options.Weights);
        var lines = new LineReader(input, options.MaxLineChars);
        var parser = new ScoreLineParser(options.MaxCompletionBytes);
        var writer = new ScoreResultWriter(output, scorer.Weights);
        long lineNumber = 0, scored = 0, errors = 0;
        while (await lines.ReadAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            if (line.IsTooLong)
            {
                errors++;
                var message = $"the line is {line.TooLongLength} characters long, over the limit of "
                    + $"{options.MaxLineChars} that a completion of at most {options.MaxCompletionBytes} bytes allows";
                await writer.WriteErrorAsync(lineNumber, null, message, cancellationToken);
                continue;
            }

            if (line.Text.Span.IsWhiteSpace())
            {
                continue;
            }

            var parsed = parser.Parse(line.Text.Span);
            if (parsed.Error is { } error)
            {
                errors++;
                await writer.WriteErrorAsync(lineNumber, parsed.RawId, error, cancellationToken);
                continue;
            }

            var breakdown = scorer.Score(parsed.Completion!, parsed.Task!);
            scored++;
            await writer.WriteScoreAsync(lineNumber, parsed.RawId, breakdown, cancellationToken);
        }

        await writer.FlushAsync(cancellationToken);
        return new ScoreSummary(scored + errors, scored, errors);
    }
}
