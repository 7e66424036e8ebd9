using System.Text.Json;
using GrpoAspire.Grpo.Evaluation;

namespace GrpoAspire.Grpo.Sft;

/// <summary>
/// What a logged step reports: the mean completion loss (nats per completion token) and grad norm over the steps since
/// the last log, tokens seen (real tokens, prompt + completion, no padding), their rate over training time (evaluation
/// and saving excluded), and the held-out evaluation when one ran at this step.
/// </summary>
public sealed record SftStepMetrics(
    int Step,
    int MaxSteps,
    double Loss,
    double LearningRate,
    double GradNorm,
    long Tokens,
    long CompletionTokens,
    double TokensPerSecond,
    double TrainSeconds,
    EvaluationReport? Eval)
{
    /// <summary>Seconds left at the current rate (training only).</summary>
    public double EtaSeconds => Step == 0 ? 0 : TrainSeconds / Step * (MaxSteps - Step);
}

/// <summary>The outcome of a run: where the final model is, and every logged step.</summary>
public sealed record SftResult(string ModelFolder, long ParameterCount, IReadOnlyList<SftStepMetrics> History);

/// <summary>Appends one JSON object per logged step to <c>sft_metrics.jsonl</c>.</summary>
public sealed class SftMetricsWriter(string path) : IDisposable
{
    public const string FileName = "sft_metrics.jsonl";

    private readonly StreamWriter _writer = new(path, append: false) { AutoFlush = true };

    public void Write(SftStepMetrics m) => _writer.WriteLine(JsonSerializer.Serialize(Fields(m)));

    public static Dictionary<string, double> Fields(SftStepMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var record = new Dictionary<string, double>
        {
            ["step"] = m.Step,
            ["loss"] = m.Loss,
            ["learning_rate"] = m.LearningRate,
            ["grad_norm"] = m.GradNorm,
            ["tokens"] = m.Tokens,
            ["completion_tokens"] = m.CompletionTokens,
            ["tokens_per_second"] = m.TokensPerSecond,
            ["train_seconds"] = m.TrainSeconds,
        };
        if (m.Eval is { } eval)
        {
            record["eval/tasks"] = eval.Tasks;
            record["eval/greedy_success_rate"] = eval.GreedySuccessRate;
            record["eval/greedy_format_rate"] = eval.GreedyFormatRate;
            if (eval.SampledSuccessRate is { } sampled)
            {
                record["eval/sampled_success_rate"] = sampled;
                record["eval/sampled_format_rate"] = eval.SampledFormatRate ?? 0;
                record["eval/pass_at_k"] = eval.PassAtK ?? 0;
                record["eval/k"] = eval.Samples;
            }

            record["eval/seconds"] = eval.Seconds;
        }

        return record;
    }

    public void Dispose() => _writer.Dispose();
}
