using System.Collections.Concurrent;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Cli.Scoring;

/// <summary>
/// The loop of <c>grpo score</c>: UTF-8 lines are read in blocks (<see cref="LineBlockReader"/>), each block is parsed
/// and scored with <see cref="CountdownScorer"/> (the reward service's code path) on the thread pool, and the result
/// lines are written in input order. At most one block per processor is in flight, so memory stays a few MiB per core.
/// </summary>
public static class ScoreRunner
{
    public static async Task<ScoreSummary> RunAsync(
        Stream input, Stream output, ScoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var reader = new LineBlockReader(input, options.MaxLineBytes);
        var idle = new ConcurrentBag<BlockScorer>();
        var inFlight = new Queue<Task<BlockScorer>>();
        long scored = 0, errors = 0;

        async Task WriteOldestAsync()
        {
            var done = await inFlight.Dequeue();
            await output.WriteAsync(done.Writer.Output.WrittenMemory, cancellationToken);
            done.Writer.Output.ResetWrittenCount();
            (scored, errors) = (scored + done.Scored, errors + done.Errors);
            idle.Add(done);
        }

        while (await reader.ReadAsync(cancellationToken) is { } block)
        {
            inFlight.Enqueue(Task.Run(() =>
            {
                var scorer = idle.TryTake(out var free) ? free : new BlockScorer(options);
                scorer.Score(block);
                return scorer;
            }, cancellationToken));
            if (inFlight.Count > Environment.ProcessorCount)
            {
                await WriteOldestAsync();
            }
        }

        while (inFlight.Count > 0)
        {
            await WriteOldestAsync();
        }

        await output.FlushAsync(cancellationToken);
        return new ScoreSummary(scored + errors, scored, errors);
    }

    /// <summary>One worker's parser, scorer and writer, reused from block to block.</summary>
    private sealed class BlockScorer(ScoreOptions options)
    {
        private readonly CountdownScorer _scorer = new(options.Weights);
        private readonly ScoreLineParser _parser = new(options.MaxCompletionBytes);

        public ScoreResultWriter Writer { get; } = new(options.Weights);

        public long Scored { get; private set; }

        public long Errors { get; private set; }

        public void Score(LineBlock block)
        {
            (Scored, Errors) = (0, 0);
            try
            {
                if (block.TooLongLength > 0)
                {
                    TooLong(block.FirstLine, block.TooLongLength);
                    return;
                }

                var offset = 0;
                for (var lineNumber = block.FirstLine; block.TryReadLine(ref offset, out var line); lineNumber++)
                {
                    ScoreLine(lineNumber, line);
                }
            }
            finally
            {
                block.Return();
            }
        }

        private void ScoreLine(long lineNumber, ReadOnlySpan<byte> line)
        {
            if (line.Length > options.MaxLineBytes)
            {
                TooLong(lineNumber, line.Length);
                return;
            }

            if (IsBlank(line))
            {
                return;
            }

            var parsed = _parser.Parse(line);
            if (parsed.Error is { } error)
            {
                Errors++;
                Writer.WriteError(lineNumber, parsed.RawId, error);
                return;
            }

            Scored++;
            Writer.WriteScore(lineNumber, parsed.RawId, _scorer.Score(parsed.Completion!.Value.Span, parsed.Task!));
        }

        private void TooLong(long lineNumber, long length)
        {
            Errors++;
            Writer.WriteError(lineNumber, null, $"the line is {length} bytes long, over the limit of {options.MaxLineBytes} "
                + $"that a completion of at most {options.MaxCompletionBytes} bytes allows");
        }

        /// <summary>Whitespace only, Unicode's included (decoded only when a byte past ASCII is there to check).</summary>
        private static bool IsBlank(ReadOnlySpan<byte> line)
        {
            var first = line.IndexOfAnyExcept(" \t\r\v\f"u8);
            return first < 0 || (line[first] >= 0x80 && System.Text.Encoding.UTF8.GetString(line).AsSpan().IsWhiteSpace());
        }
    }
}
