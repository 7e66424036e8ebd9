using System.Globalization;
using GrpoAspire.Cli.CommandLine;
using GrpoAspire.Countdown.Traces;
using GrpoAspire.Grpo.Sft;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model;

namespace GrpoAspire.Cli.Commands;

/// <summary><c>grpo sft</c>: the supervised warm start of a model (by default the embedded countdown-tiny) on solver traces.</summary>
public sealed class SftCommand : ICommand
{
    public string Name => "sft";

    public string Summary => "Supervised warm start on solver traces (the embedded countdown-tiny by default); writes a Hugging Face folder.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("output", "DIR", "run folder: the final model (config.json, model.safetensors, tokenizer.json), checkpoint-N/, sft_metrics.jsonl", Required: true),
        new("init", "DIR", "start from this Hugging Face folder instead of fresh weights"),
        new("config", "NAME", $"shape of fresh weights: {ModelResolver.CountdownTiny} (default, 4.5M parameters), tiny or small"),
        new("tasks", "N", "distinct training tasks, never from the held-out set (default 50000)"),
        new("steps", "N", "optimizer steps (default 2000)"),
        new("batch-size", "N", "sequences per step (default 64)"),
        new("seq-len", "N", "most tokens per sequence, prompt + completion (default 320)"),
        new("lr", "X", "peak learning rate of AdamW (default 1e-3; warm-up then cosine to 0)"),
        new("warmup-ratio", "X", "fraction of the steps spent warming up (default 0.05)"),
        new("device", "DEVICE", "cpu (default), cuda or cuda:N"),
        new("dtype", "TYPE", "float32 (default) or bfloat16: the training and saved dtype"),
        new("gradient-checkpointing", null, "recompute each decoder layer in the backward instead of keeping its activations (less memory, about a third more compute)"),
        new("seed", "N", "seed of the tasks, traces, order and fresh weights (default 42)"),
        new("eval-every", "N", "held-out evaluation every N steps (default: only after the last)"),
        new("eval-tasks", "N", "held-out tasks per evaluation (default 100; 0 = none)"),
        new("eval-samples", "K", "sampled completions per held-out task besides the greedy one (default 2)"),
        new("save-every", "N", "also save checkpoint-N every N steps (default: the final model only)"),
        new("log-every", "N", "progress line every N steps (default 10)"),
        new("template", "NAME", "prompt template (default compact; GRPO recipes then use prompt_template: compact)"),
        new("imperfect-fraction", "X", "fraction of traces that end at a near miss instead of the answer (default 0.45)"),
        new("give-up-early", null, "near-miss traces stop after 1 to the most wrong trials (uniform), not always after the most"),
        new("trace-style", "S", "trials (guessed equations, default), stepwise (three-number tasks: combine, distance to target, check) or chain (stepwise, and four-number tasks: combine twice, distance, check)"),
    ];

    public string Details => """
        Each example is a generated task's prompt and a fresh solver trace: trial equations with their values and a check
        against the target, then </think> and <answer>EQUATION</answer>. The loss is next-token cross-entropy on the
        completion tokens only. Progress goes to stderr (step, loss, tokens/s, ETA, held-out success); the final line on
        stdout names the model folder.

        Exit codes:
          0  trained and saved
          2  bad arguments, unreadable --init folder, or an unavailable device

        Example:
          grpo sft --output runs/countdown-tiny --steps 3000 --device cuda --eval-every 500
          grpo train --recipe recipes/smoke-cpu.yaml --model runs/countdown-tiny
        """;

    public Task<int> RunAsync(ParsedArguments arguments, CliConsole console, CancellationToken cancellationToken)
    {
        var defaults = new SftOptions { OutputDirectory = "." };
        var options = new SftOptions
        {
            OutputDirectory = arguments.Required("output"),
            InitModel = arguments.Value("init"),
            ModelConfig = arguments.Value("config") ?? defaults.ModelConfig,
            Tasks = arguments.Int32("tasks", defaults.Tasks, 1, 10_000_000),
            Steps = arguments.Int32("steps", defaults.Steps, 1, 100_000_000),
            BatchSize = arguments.Int32("batch-size", defaults.BatchSize, 1, 65_536),
            SeqLen = arguments.Int32("seq-len", defaults.SeqLen, 16, 131_072),
            LearningRate = Number(arguments, "lr", defaults.LearningRate, min: 0, max: 1, minInclusive: false),
            WarmupRatio = Number(arguments, "warmup-ratio", defaults.WarmupRatio, min: 0, max: 0.999),
            Device = arguments.Value("device") ?? defaults.Device,
            Dtype = Dtype(arguments.Value("dtype") ?? defaults.Dtype),
            GradientCheckpointing = arguments.Has("gradient-checkpointing"),
            Seed = arguments.Int32("seed", (int)defaults.Seed, 0, int.MaxValue),
            EvalEvery = arguments.Int32("eval-every", defaults.EvalEvery, 0, int.MaxValue),
            EvalTasks = arguments.Int32("eval-tasks", defaults.EvalTasks, 0, 100_000),
            EvalSamples = arguments.Int32("eval-samples", defaults.EvalSamples, 0, 1024),
            SaveEvery = arguments.Int32("save-every", defaults.SaveEvery, 0, int.MaxValue),
            LogEvery = arguments.Int32("log-every", defaults.LogEvery, 1, int.MaxValue),
            PromptTemplate = arguments.Value("template") ?? defaults.PromptTemplate,
            Traces = new SolverTraceOptions
            {
                ImperfectFraction = Number(arguments, "imperfect-fraction", defaults.Traces.ImperfectFraction, 0, 1),
                GiveUpEarly = arguments.Has("give-up-early"),
                Style = TraceStyleOf(arguments.Value("trace-style")),
            },
        };
        try
        {
            options.Validate();
            _ = TorchRuntime.ParseDevice(options.Device);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }

        SftResult result;
        try
        {
            using var trainer = new SftTrainer(options);
            var model = options.InitModel ?? options.ModelConfig;
            console.Error.WriteLine(
                $"sft: {model} ({trainer.ParameterCount:N0} parameters) on {options.Device} {options.Dtype}; {trainer.Examples.TaskCount:N0} tasks, "
                + $"{options.Steps} steps x {options.BatchSize} sequences, lr {options.LearningRate:G3}, template {options.PromptTemplate}");
            result = trainer.Train(m => console.Error.WriteLine(SftProgress.Line(m)), cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new UsageException(e.Message);
        }

        var last = result.History[^1];
        console.Out.WriteLine(
            $"saved {result.ModelFolder}: {result.ParameterCount:N0} parameters, {last.Step} steps, {last.Tokens:N0} tokens "
            + $"at {last.TokensPerSecond:N0} tokens/s" + (last.Eval is { } eval ? $", held-out greedy success {eval.GreedySuccessRate:P1}" : string.Empty));
        return Task.FromResult(ExitCodes.Success);
    }

    private static double Number(ParsedArguments arguments, string name, double defaultValue, double min, double max, bool minInclusive = true)
    {
        if (arguments.Value(name) is not { } text)
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value) || value > max || value < min || (!minInclusive && value == min))
        {
            var low = minInclusive ? $"[{min.ToString(CultureInfo.InvariantCulture)}" : $"({min.ToString(CultureInfo.InvariantCulture)}";
            throw new UsageException($"--{name} must be a number in {low}, {max.ToString(CultureInfo.InvariantCulture)}], got '{text}'");
        }

        return value;
    }

    private static string Dtype(string text) => text.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" => "float32",
        "bfloat16" or "bf16" => "bfloat16",
        _ => throw new UsageException($"--dtype must be float32 or bfloat16, got '{text}'"),
    };

    private static TraceStyle TraceStyleOf(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "trials" => TraceStyle.Trials,
        "stepwise" => TraceStyle.Stepwise,
        "chain" => TraceStyle.Chain,
        _ => throw new UsageException($"--trace-style must be trials, stepwise or chain, got '{text}'"),
    };
}

/// <summary>The progress lines of <c>grpo sft</c>.</summary>
internal static class SftProgress
{
    public static string Line(SftStepMetrics m)
    {
        var line = $"step {m.Step}/{m.MaxSteps} | loss {m.Loss:F4} | lr {m.LearningRate:G3} | grad {m.GradNorm:F2} | "
            + $"{m.Tokens / 1e6:F2}M tokens | {m.TokensPerSecond:N0} tokens/s | ETA {Eta(m.EtaSeconds)}";
        if (m.Eval is { } e)
        {
            line += $"\n  held-out ({e.Tasks} tasks): greedy success {e.GreedySuccessRate:P1} format {e.GreedyFormatRate:P1}";
            if (e.SampledSuccessRate is { } sampled)
            {
                line += $" | sampled (T=1, {e.Samples}/task) success {sampled:P1} format {e.SampledFormatRate:P1} pass@{e.Samples} {e.PassAtK:P1}";
            }

            line += $" [{e.Seconds:F1} s]";
        }

        return line;
    }

    private static string Eta(double seconds) =>
        TimeSpan.FromSeconds(Math.Max(0, seconds)) is var t && t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";
}
