using System.Globalization;
using System.Text.Json;
using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Grpo.Evaluation;
using GrpoAspire.Model;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;
using GrpoAspire.Tasks;
using GrpoAspire.Tasks.Prompts;

namespace GrpoAspire.Cli.Commands;

/// <summary><c>grpo eval</c>: how often a model solves held-out records of a task, greedy and sampled, as a JSON report.</summary>
public sealed class EvalCommand : ICommand
{
    private static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true };

    public string Name => "eval";

    public string Summary => "Success rate of a model on a task's records (Countdown by default): greedy, sampled, pass@k (JSON report).";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("model", "DIR", "Hugging Face model folder (config.json, model.safetensors, tokenizer.json), e.g. a checkpoint-N", Required: true),
        new("task", "NAME", "the task: countdown (default) or another built-in task"),
        new("tasks", "FILE", "records to evaluate: .jsonl, one record per line (countdown: {\"nums\": [..], \"target\": N}; also .parquet)"),
        new("generate", "N", "instead of --tasks: the first N tasks of the fixed held-out set (never trained on)"),
        new("samples", "K", "sampled completions per task for the sampled rate and pass@K (default 4; 0 = greedy only)"),
        new("max-new-tokens", "N", "completion budget (default 256)"),
        new("temperature", "T", "sampling temperature (default 1.0)"),
        new("batch-size", "N", "sequences per sampler call (default 64)"),
        new("template", "NAME", "prompt template: a built-in one (countdown: seed-r1, the default, tinyzero-base, compact) or a .json file; default: the task's"),
        new("seed", "N", "sampling seed (default 1234)"),
        new("device", "DEVICE", "cpu (default), cuda or cuda:N"),
        new("output", "FILE", "also write the JSON report to FILE"),
    ];

    public string Details => """
        Success means the task's verdict is "correct"; for Countdown, the seed's equation reward is 1: the answer uses the
        task's numbers once each and equals the target.
        The report (stdout) holds greedy_success_rate, greedy_format_rate, sampled_success_rate, sampled_format_rate,
        pass_at_k, k, tasks, seconds.

        Exit codes:
          0  evaluated
          2  bad arguments, unreadable model or task file
        """;

    public async Task<int> RunAsync(ParsedArguments arguments, CliConsole console, CancellationToken cancellationToken)
    {
        var modelDirectory = arguments.Required("model");
        var options = new EvaluationOptions
        {
            Samples = arguments.Int32("samples", 4, 0, 1024),
            MaxNewTokens = arguments.Int32("max-new-tokens", 256, 1, 131_072),
            BatchSize = arguments.Int32("batch-size", 64, 1, 65_536),
            Seed = arguments.Int32("seed", 1234, 0, int.MaxValue),
            Temperature = Temperature(arguments.Value("temperature")),
        };
        var deviceName = arguments.Value("device") ?? "cpu";
        try
        {
            var definition = BuiltInTasks.BuiltInTasks.Catalog.Task(arguments.Value("task") ?? Countdown.CountdownDefinition.Name);
            options = options with { Template = PromptTemplate.Get(arguments.Value("template") ?? definition.DefaultPromptTemplate) };
            var (tasks, source) = await Records(arguments, definition, cancellationToken);
            var device = TorchRuntime.ParseDevice(deviceName);
            var tokenizer = QwenTokenizer.FromDirectory(modelDirectory);
            using var model = Qwen2Checkpoint.Load(modelDirectory, device);
            model.eval();
            console.Error.WriteLine($"evaluating {modelDirectory} on {tasks.Count} tasks ({source}), {options.Samples} samples each, on {deviceName}");
            var lastPercent = -1;
            var report = TaskEvaluator.Evaluate(model, tokenizer, tasks, options, new SyncProgress(p =>
            {
                var percent = (int)(100L * p.Done / Math.Max(1, p.Total));
                if (percent / 10 != lastPercent / 10)
                {
                    console.Error.WriteLine($"  {p.Done}/{p.Total} sequences ({percent}%)");
                    lastPercent = percent;
                }
            }));
            var json = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["model"] = modelDirectory,
                ["tasks_source"] = source,
                ["tasks"] = report.Tasks,
                ["greedy_success_rate"] = report.GreedySuccessRate,
                ["greedy_format_rate"] = report.GreedyFormatRate,
                ["sampled_success_rate"] = report.SampledSuccessRate,
                ["sampled_format_rate"] = report.SampledFormatRate,
                ["pass_at_k"] = report.PassAtK,
                ["k"] = report.Samples,
                ["temperature"] = options.Temperature,
                ["max_new_tokens"] = options.MaxNewTokens,
                ["task"] = definition.Task,
                ["template"] = options.Template.Name,
                ["seed"] = options.Seed,
                ["device"] = deviceName,
                ["seconds"] = Math.Round(report.Seconds, 2),
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            }, ReportJson);
            console.Out.WriteLine(json);
            if (arguments.Value("output") is { } output)
            {
                await File.WriteAllTextAsync(output, json + "\n", cancellationToken);
            }

            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or TaskDataException or ArgumentException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new UsageException(e.Message);
        }
    }

    private static async Task<(IReadOnlyList<TaskRecord> Records, string Source)> Records(
        ParsedArguments arguments, ITaskDefinition definition, CancellationToken cancellationToken)
    {
        var file = arguments.Value("tasks");
        var generate = arguments.Has("generate") ? arguments.Int32("generate", 0, 1, 100_000) : (int?)null;
        return (file, generate) switch
        {
            (null, null) => throw new UsageException("give --tasks FILE or --generate N"),
            ({ }, { }) => throw new UsageException("give --tasks FILE or --generate N, not both"),
            ({ } path, null) when definition.Task == Countdown.CountdownDefinition.Name =>
                ((await TaskReaders.ReadFileAsync(path, cancellationToken)).Select(Countdown.CountdownDefinition.ToRecord).ToArray(), path),
            ({ } path, null) => (await TaskRecordFile.ReadJsonLinesAsync(path, definition, cancellationToken), path),
            (null, { } count) => (definition.HeldOut(count), $"{definition.Task} held-out set, first {count}"),
        };
    }

    private static double Temperature(string? text) =>
        text is null ? 1.0
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t > 0 && t <= 10 ? t
        : throw new UsageException($"--temperature must be a number in (0, 10], got '{text}'");

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SyncProgress(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }
}
