using System.Globalization;
using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Model;
using GrpoAspire.Model.Qwen2;

namespace GrpoAspire.Cli.Commands;

/// <summary><c>grpo check-parity</c>: a model folder against reference outputs made with transformers.</summary>
public sealed class CheckParityCommand : ICommand
{
    public string Name => "check-parity";

    public string Summary => "Compare a Hugging Face model folder with reference logits / greedy ids (expected.safetensors).";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("model", "DIR", "Hugging Face folder: config.json + model.safetensors (or shards)", Required: true),
        new("expected", "FILE", "safetensors with input_ids, logits and optionally padded_*, greedy_ids, token_logprobs", Required: true),
        new("device", "DEVICE", "cpu (default), cuda or cuda:N"),
        new("tolerance", "X", "largest allowed absolute difference (default 1e-4)"),
    ];

    public string Details => """
        Runs the model in float32 and prints the largest absolute differences and whether greedy ids match.

        Exit codes:
          0  every difference within the tolerance and greedy ids identical
          1  a difference beyond the tolerance or a greedy mismatch
          2  usage error, unreadable model or expected file
        """;

    public Task<int> RunAsync(ParsedArguments arguments, CliConsole console, CancellationToken cancellationToken)
    {
        var tolerance = arguments.Value("tolerance") is { } text
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t >= 0 ? t
                : throw new UsageException($"--tolerance: '{text}' is not a non-negative number")
            : 1e-4;
        ParityReport report;
        try
        {
            var device = TorchRuntime.ParseDevice(arguments.Value("device") ?? "cpu");
            using var model = Qwen2Checkpoint.Load(arguments.Required("model"), device);
            report = ParityCheck.Run(model, arguments.Required("expected"), tolerance);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new UsageException(e.Message);
        }

        var o = console.Out;
        o.WriteLine($"max |logit difference|        {report.MaxLogitDifference:E3}");
        if (report.MaxPaddedLogitDifference is { } padded)
        {
            o.WriteLine($"max |padded logit difference| {padded:E3}");
        }

        if (report.MaxLogProbDifference is { } logProbs)
        {
            o.WriteLine($"max |log-prob difference|     {logProbs:E3}");
        }

        if (report.GreedyIdsMatch is { } greedy)
        {
            o.WriteLine($"greedy ids                    {(greedy ? "identical" : "DIFFERENT")}");
        }

        o.WriteLine(report.Passed ? $"parity: PASS (tolerance {tolerance:G})" : $"parity: FAIL (tolerance {tolerance:G})");
        return Task.FromResult(report.Passed ? ExitCodes.Success : ExitCodes.PartialFailure);
    }
}
