using System.Net;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Countdown.Evaluation;

namespace GrpoAspire.EndToEnd.Tests;

/// <summary>
/// The trainer's control RPCs on a real run (checkpoint now, evaluate now, stop after this step), its run page, and
/// Trainer:ExitWhenDone, with the services as processes.
/// </summary>
[Collection(nameof(EndToEnd))]
public sealed class TrainerControlTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);
    private static readonly Metadata WithToken = new() { { "authorization", "Bearer " + Cluster.Token } };

    [Fact]
    public async Task RequestedCheckpointAndEvaluationFollowTheStepInProgressAndAStopEndsTheRunAfterACompleteStep()
    {
        // No checkpoint is due before the last step and the recipe does not evaluate: whatever appears was requested.
        const int maxSteps = 200;
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps, saveSteps: 1000));
        await cluster.StartTrainerAsync();
        await cluster.StartReplicaAsync("replica-a");
        var trainer = cluster.TrainerClient();
        await cluster.WaitForTrainerStepAsync(1, RunTimeout);

        var checkpoint = await trainer.RequestCheckpointAsync(new RequestCheckpointRequest(), WithToken);
        var evaluation = await trainer.RequestEvaluationAsync(new RequestEvaluationRequest(), WithToken);
        Assert.True(checkpoint.Accepted, checkpoint.Reason);
        Assert.True(evaluation.Accepted, evaluation.Reason);
        Assert.Equal(checkpoint.Step + 1, checkpoint.AfterStep);
        Assert.InRange(evaluation.AfterStep, checkpoint.AfterStep, checkpoint.AfterStep + 1);

        var evaluated = await cluster.WaitForTrainerStepAsync(evaluation.AfterStep + 1, RunTimeout);
        var checkpoints = Directory.GetDirectories(cluster.RunFolder, "checkpoint-*").Select(folder => Path.GetFileName(folder)!).ToArray();
        Assert.Equal([$"checkpoint-{checkpoint.AfterStep}"], checkpoints);
        Assert.True(File.Exists(Path.Combine(cluster.RunFolder, $"checkpoint-{checkpoint.AfterStep}", "trainer_state.json")));
        Assert.EndsWith($"checkpoint-{checkpoint.AfterStep}", evaluated.LastCheckpoint, StringComparison.Ordinal);
        var result = Assert.Single(HeldOutResults.Read(cluster.RunFolder));
        Assert.Equal(evaluation.AfterStep, result.Step);
        Assert.Equal(20, result.Tasks);
        Assert.Contains($"evaluation requested after step {evaluation.AfterStep}", cluster.Trainer!.Log, StringComparison.Ordinal);
        Assert.Contains($"eval after step {evaluation.AfterStep}: held-out success", cluster.Trainer!.Log, StringComparison.Ordinal);

        await RunPageShowsTheEvaluationAndTheCurvesAsync(cluster.Trainer!, evaluation.AfterStep);

        var stop = await trainer.StopTrainingAsync(new StopTrainingRequest(), WithToken);
        Assert.True(stop.Accepted, stop.Reason);
        var stopped = await cluster.WaitForTrainerAsync(RunTimeout, "stopped");
        // The step in progress completed (rollouts, update, weights version) and the loop ended right after it.
        Assert.Equal(stop.Step + 1, stop.AfterStep);
        Assert.Equal(stop.AfterStep, stopped.Step);
        Assert.Equal(stopped.Step, stopped.PolicyVersion);
        Assert.True(stopped.Step < maxSteps, "the run finished before the stop");
        Assert.Equal(Enumerable.Range(1, stopped.Step), cluster.MetricSteps());
        Assert.Contains($"training stopped at step {stopped.Step} (requested)", cluster.Trainer!.Log, StringComparison.Ordinal);

        var late = await trainer.RequestCheckpointAsync(new RequestCheckpointRequest(), WithToken);
        Assert.False(late.Accepted);
        Assert.Equal(0, late.AfterStep);
        Assert.Equal($"training was stopped (step {stopped.Step})", late.Reason);
    }

    [Fact]
    public async Task WithExitWhenDoneTheTrainerExitsWithZeroOnceTrainingIsFinished()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 1, saveSteps: 1));
        var trainer = await cluster.StartTrainerAsync(new Dictionary<string, string> { ["Trainer__ExitWhenDone"] = "true" });
        await cluster.StartReplicaAsync("replica-a");

        var code = await trainer.WaitForExitAsync(RunTimeout);

        Assert.True(code == 0, $"exit code {code}:\n{trainer.Log}");
        Assert.Contains("run e2e finished at step 1", trainer.Log, StringComparison.Ordinal);
        Assert.Contains("training finished at step 1: the trainer exits with code 0", trainer.Log, StringComparison.Ordinal);
        Assert.Equal([1], cluster.MetricSteps());
    }

    [Fact]
    public async Task WithExitWhenDoneARunFailedOnBadInputExitsWithTwoAfterLoggingItsErrorAtErrorLevel()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 1, saveSteps: 1));
        var missing = Path.Combine(cluster.Folder, "no-such-recipe.yaml");
        var trainer = await cluster.StartTrainerAsync(
            new Dictionary<string, string> { ["Trainer__ExitWhenDone"] = "true", ["Trainer__Recipe"] = missing }, waitUntilHealthy: false);

        var code = await trainer.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 2, $"exit code {code}:\n{trainer.Log}");
        var lines = trainer.Log.Split('\n');
        var error = Array.FindIndex(lines, line => line.StartsWith("fail: GrpoAspire.Trainer.Training.TrainerWorker", StringComparison.Ordinal));
        var exit = Array.FindIndex(lines, line => line.Contains("the trainer exits with code 2", StringComparison.Ordinal));
        Assert.True(error >= 0 && exit > error, $"no error line before the exit line:\n{trainer.Log}");
        Assert.Contains("training failed:", lines[error + 1], StringComparison.Ordinal);
        Assert.Contains("no-such-recipe.yaml", lines[error + 1], StringComparison.Ordinal);
    }

    /// <summary>GET /run and /run/curves.png on the trainer's HTTP/1.1 endpoint, with their security headers.</summary>
    private static async Task RunPageShowsTheEvaluationAndTheCurvesAsync(ServiceProcess trainer, int evaluatedStep)
    {
        using var http = new HttpClient { BaseAddress = trainer.HttpAddress };
        using var page = await http.GetAsync(new Uri("/run", UriKind.Relative));
        var html = await page.Content.ReadAsStringAsync();
        using var curves = await http.GetAsync(new Uri("/run/curves.png", UriKind.Relative));
        var png = await curves.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("default-src 'none'", Assert.Single(page.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains("<h1>GRPO run e2e</h1>", html, StringComparison.Ordinal);
        Assert.Contains($"<tr><td class=\"n\">{evaluatedStep}</td><td class=\"n\">20</td>", html, StringComparison.Ordinal);
        Assert.Contains("id=\"curves\"", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, curves.StatusCode);
        Assert.Equal("image/png", curves.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Assert.Single(curves.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }
}
