using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Countdown.Evaluation;

namespace GrpoAspire.Trainer.RunPage;

/// <summary>
/// The run page: one self-contained HTML document (no script; it reloads itself every few seconds) with the run's
/// status, its held-out evaluations, the curves picture and the latest completion samples. Every text from the run
/// folder or the status is HTML-encoded; the one inline style is allowed by its hash (<see cref="ContentSecurityPolicy"/>).
/// </summary>
internal static class RunPageHtml
{
    public const int RefreshSeconds = 5;
    public const string CurvesUrl = "/run/curves.png";

    private const string Style =
        "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1b}" +
        "table{border-collapse:collapse;margin-bottom:1rem}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}" +
        "td.n{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;border:1px solid #ccc}" +
        "pre{white-space:pre-wrap;word-break:break-word;background:#f5f5f5;padding:.5rem;margin:.25rem 0 1rem}" +
        "h3{font-size:.95rem;margin:.5rem 0 0}.failed{color:#b00020}.empty{color:#666}";

    /// <summary>Nothing loads but the page's own images; the inline style is allowed by its SHA-256 alone.</summary>
    public static readonly string ContentSecurityPolicy =
        "default-src 'none'; img-src 'self'; style-src 'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style))) + "'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;

    public static string Render(GetTrainerStatusResponse status, string? runDirectory, RunFolderView view)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(view);
        var run = string.IsNullOrEmpty(status.Run) ? "(starting)" : status.Run;
        var html = new StringBuilder(16 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append(CultureInfo.InvariantCulture, $"<meta http-equiv=\"refresh\" content=\"{RefreshSeconds}\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(Encode($"GRPO run {run}: {status.Status}")).Append("</title>")
            .Append("<style>").Append(Style).Append("</style></head>\n<body>\n")
            .Append("<h1>").Append(Encode($"GRPO run {run}")).Append("</h1>\n");
        AppendStatus(html, status, runDirectory);
        AppendEvaluations(html, view.Evaluations);
        html.Append("<h2>Curves</h2>\n").Append(view.HasCurves
            ? $"<img id=\"curves\" src=\"{CurvesUrl}\" alt=\"training curves: reward, success rate, KL, loss, completion length, learning rate\">\n"
            : "<p class=\"empty\">No curves.png yet: the trainer draws it at checkpoints, evaluations and the end of the run.</p>\n");
        AppendSamples(html, "successes", "Latest completions that solved their task", view.Successes);
        AppendSamples(html, "samples", "Latest sampled completions (any reward)", view.Samples);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void AppendStatus(StringBuilder html, GetTrainerStatusResponse status, string? runDirectory)
    {
        html.Append("<table id=\"status\">\n");
        Row(html, "status", status.Status, status.Status == "failed" ? "failed" : null);
        Row(html, "step", status.MaxSteps > 0 ? $"{status.Step} / {status.MaxSteps}" : Number(status.Step));
        Row(html, "last reward", status.Step > 0 ? status.LastReward.ToString("F3", CultureInfo.InvariantCulture) : "-");
        Row(html, "last success rate", status.Step > 0 ? HeldOutResults.Percent(status.LastSuccessRate) : "-");
        Row(html, "weights version", status.PolicyVersion.ToString(CultureInfo.InvariantCulture));
        Row(html, "last checkpoint", string.IsNullOrEmpty(status.LastCheckpoint) ? "-" : status.LastCheckpoint);
        Row(html, "run folder", runDirectory ?? "-");
        if (!string.IsNullOrEmpty(status.Error))
        {
            Row(html, "error", status.Error, "failed");
        }

        html.Append("</table>\n");
    }

    private static void AppendEvaluations(StringBuilder html, IReadOnlyList<HeldOutResult> evaluations)
    {
        html.Append("<h2>Held-out evaluations</h2>\n");
        if (evaluations.Count == 0)
        {
            html.Append("<p class=\"empty\">None yet (eval.jsonl: the recipe's eval_strategy, or an evaluation requested through the trainer's API).</p>\n");
            return;
        }

        html.Append("<table id=\"evaluations\"><thead><tr><th>step</th><th>tasks</th><th>greedy success</th><th>sampled success</th>")
            .Append("<th>pass@k</th><th>format</th><th>samples</th><th>seconds</th></tr></thead><tbody>\n");
        foreach (var e in evaluations)
        {
            html.Append("<tr>");
            Cell(html, Number(e.Step));
            Cell(html, Number(e.Tasks));
            Cell(html, HeldOutResults.Percent(e.GreedySuccessRate));
            Cell(html, e.SampledSuccessRate is { } sampled ? HeldOutResults.Percent(sampled) : "-");
            Cell(html, e.PassAtK is { } pass ? HeldOutResults.Percent(pass) : "-");
            Cell(html, HeldOutResults.Percent(e.SampledFormatRate ?? e.GreedyFormatRate));
            Cell(html, Number(e.Samples));
            Cell(html, e.Seconds.ToString("F1", CultureInfo.InvariantCulture));
            html.Append("</tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static void AppendSamples(StringBuilder html, string id, string title, IReadOnlyList<CompletionSample> samples)
    {
        html.Append(CultureInfo.InvariantCulture, $"<section id=\"{id}\"><h2>{Encode(title)}</h2>\n");
        if (samples.Count == 0)
        {
            html.Append("<p class=\"empty\">None yet.</p>\n");
        }

        foreach (var sample in samples)
        {
            html.Append("<h3>").Append(Encode(sample.Header)).Append("</h3><pre>").Append(Encode(sample.Text)).Append("</pre>\n");
        }

        html.Append("</section>\n");
    }

    private static void Row(StringBuilder html, string name, string value, string? cssClass = null) =>
        html.Append("<tr><th>").Append(Encode(name)).Append("</th><td")
            .Append(cssClass is null ? string.Empty : $" class=\"{cssClass}\"")
            .Append('>').Append(Encode(value)).Append("</td></tr>\n");

    private static void Cell(StringBuilder html, string value) =>
        html.Append("<td class=\"n\">").Append(Encode(value)).Append("</td>");

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Encode(string text) => Encoder.Encode(text);
}
