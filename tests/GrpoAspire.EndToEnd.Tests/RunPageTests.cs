using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Countdown.Evaluation;
using GrpoAspire.Trainer.RunPage;

namespace GrpoAspire.EndToEnd.Tests;

/// <summary>The trainer's run page rendered from a run folder of fabricated files (no process, no model).</summary>
public sealed partial class RunPageTests : IDisposable
{
    private const string Hostile = "</pre><script>alert('x')</script><img src=x onerror=alert(1)>";
    private readonly string _run = Directory.CreateTempSubdirectory("run-page-").FullName;

    private static readonly GetTrainerStatusResponse Training = new()
    {
        Run = "smoke", Status = "training", Step = 3, MaxSteps = 10, LastReward = 0.4567, LastSuccessRate = 0.125, PolicyVersion = 3,
    };

    [Fact]
    public void HostileCompletionTextIsEncodedAndEvaluationsShowAsATable()
    {
        WriteSamples(CompletionSamplesFile.SampledFileName, $"\n\n==== step 3 | 1 2 -> 3 <b>bold</b> | reward 0.00 (wrong) ====\n<think>{Hostile}");
        WriteSamples(CompletionSamplesFile.SuccessFileName, "\n\n==== step 2 | 1 2 -> 3 | reward 2.00 (correct) ====\n<think>1+2</think>\n<answer>1 + 2</answer>");
        HeldOutResults.Append(_run, new HeldOutResult { Step = 0, Tasks = 20, GreedySuccessRate = 0.05, GreedyFormatRate = 0.9, Seconds = 1.5 });
        File.AppendAllText(Path.Combine(_run, HeldOutResults.FileName), "{\"step\": 1, cut by a kill\n");
        HeldOutResults.Append(_run, new HeldOutResult
        {
            Step = 3, Tasks = 20, GreedySuccessRate = 0.1, GreedyFormatRate = 0.95, SampledSuccessRate = 0.15, SampledFormatRate = 0.97,
            PassAtK = 0.25, Samples = 2, Temperature = 1, Seconds = 2.31,
        });

        var html = Render(Training);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>bold", html, StringComparison.Ordinal);
        Assert.Contains("&lt;/pre&gt;&lt;script&gt;alert(", html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;bold&lt;/b&gt;", html, StringComparison.Ordinal);
        // HtmlEncoder.Default also encodes "+" (and all non-ASCII): the browser shows them as they were.
        Assert.Contains("&lt;answer&gt;1 &#x2B; 2&lt;/answer&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"5\">", html, StringComparison.Ordinal);
        Assert.Contains("<td>3 / 10</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>0.457</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>12.5 %</td>", html, StringComparison.Ordinal);

        // Two readable lines of eval.jsonl, in file order; the cut one is skipped.
        var rows = EvaluationRow().Matches(html).Select(m => m.Groups["cells"].Value).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("<td class=\"n\">0</td><td class=\"n\">20</td><td class=\"n\">5.0 %</td><td class=\"n\">-</td>", rows[0], StringComparison.Ordinal);
        Assert.Equal(
            "<td class=\"n\">3</td><td class=\"n\">20</td><td class=\"n\">10.0 %</td><td class=\"n\">15.0 %</td><td class=\"n\">25.0 %</td>"
            + "<td class=\"n\">97.0 %</td><td class=\"n\">2</td><td class=\"n\">2.3</td>",
            rows[1]);
        Assert.DoesNotContain("id=\"curves\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCurvesShowOnceThePictureExistsAndAFailureShowsItsEncodedError()
    {
        File.WriteAllBytes(Path.Combine(_run, "curves.png"), [0x89, 0x50, 0x4E, 0x47]);
        var failed = Training.Clone();
        failed.Status = "failed";
        failed.Error = "no such file: <recipe>.yaml";

        var html = Render(failed);

        Assert.Contains($"<img id=\"curves\" src=\"{RunPageHtml.CurvesUrl}\"", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"failed\">no such file: &lt;recipe&gt;.yaml</td>", html, StringComparison.Ordinal);
        Assert.Contains("None yet (eval.jsonl", html, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyTheTailOfALongEvalFileIsShown()
    {
        var lines = Enumerable.Range(1, 2000).Select(step => $"{{\"step\":{step},\"tasks\":20,\"greedy_success_rate\":0.5,\"greedy_format_rate\":1}}");
        File.WriteAllLines(Path.Combine(_run, HeldOutResults.FileName), lines);

        var view = RunFolderView.Read(_run);

        Assert.Equal(RunFolderView.MaxEvaluations, view.Evaluations.Count);
        Assert.Equal(Enumerable.Range(2000 - RunFolderView.MaxEvaluations + 1, RunFolderView.MaxEvaluations), view.Evaluations.Select(e => e.Step));
        Assert.Same(RunFolderView.Empty, RunFolderView.Read(null));
    }

    [Fact]
    public void TheContentSecurityPolicyAllowsThePagesOwnStyleByItsHashAndNoScript()
    {
        var html = Render(Training);
        var style = StyleElement().Match(html).Groups["css"].Value;
        var hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(style)));

        Assert.NotEmpty(style);
        Assert.Contains($"style-src 'sha256-{hash}'", RunPageHtml.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.StartsWith("default-src 'none';", RunPageHtml.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", RunPageHtml.ContentSecurityPolicy, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_run, recursive: true);

    private string Render(GetTrainerStatusResponse status) => RunPageHtml.Render(status, _run, RunFolderView.Read(_run));

    private void WriteSamples(string fileName, string text)
    {
        Directory.CreateDirectory(Path.Combine(_run, CompletionSamplesFile.Folder));
        File.WriteAllText(Path.Combine(_run, CompletionSamplesFile.Folder, fileName), text);
    }

    [GeneratedRegex("<tr>(?<cells><td class=\"n\">.*?)</tr>")]
    private static partial Regex EvaluationRow();

    [GeneratedRegex("<style>(?<css>.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleElement();
}
