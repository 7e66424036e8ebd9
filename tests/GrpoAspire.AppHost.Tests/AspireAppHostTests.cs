using Microsoft.Extensions.DependencyInjection;

namespace GrpoAspire.AppHost.Tests;

/// <summary>The app model through Aspire.Hosting.Testing: health, steps through the services, commands, exit codes, cleanup.</summary>
public sealed class AspireAppHostTests : IDisposable
{
    private static readonly string[] AllResources = [ResourceNames.Redis, ResourceNames.Reward, ResourceNames.Trainer, ResourceNames.Generation];
    private readonly string _root = Directory.CreateTempSubdirectory("grpo-aspire-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task EveryResourceBecomesHealthyStepsRunThroughTheServicesAndTheTrainerCommandsAct()
    {
        var output = Path.Combine(_root, "run");
        var app = await TestApp.StartAsync(output, ["--max-steps", "100000", "--keep-running"]);
        await using (app)
        {
            await app.WaitHealthyAsync(AllResources);
            // Two steps: jobs through Redis, completions sampled by the replica and scored by the reward service.
            var status = await app.UntilTrainerAsync(s => s.Step >= 2, "step 2");
            Assert.Equal("training", status.Status);
            Assert.Equal(status.Step, status.PolicyVersion);

            var commands = app.App.Services.GetRequiredService<ResourceCommandService>();
            var checkpoint = await commands.ExecuteCommandAsync(ResourceNames.Trainer, TrainerCommands.Checkpoint);
            Assert.True(checkpoint.Success, checkpoint.Message);
            var checkpointStep = AfterStep(checkpoint.Message);
            var evaluate = await commands.ExecuteCommandAsync(ResourceNames.Trainer, TrainerCommands.Evaluate);
            Assert.True(evaluate.Success, evaluate.Message);
            var evaluationStep = AfterStep(evaluate.Message);
            await app.UntilTrainerAsync(s => s.Step > Math.Max(checkpointStep, evaluationStep), "the steps the requests wait for");
            Assert.True(File.Exists(Path.Combine(output, $"checkpoint-{checkpointStep}", "model.safetensors")), $"no checkpoint-{checkpointStep}");
            await Until(() => File.Exists(Path.Combine(output, "eval.jsonl"))
                && File.ReadLines(Path.Combine(output, "eval.jsonl")).Any(l => l.Contains($"\"step\":{evaluationStep},", StringComparison.Ordinal)), "the requested evaluation in eval.jsonl");

            var stop = await commands.ExecuteCommandAsync(ResourceNames.Trainer, TrainerCommands.Stop);
            Assert.True(stop.Success, stop.Message);
            var stopped = await app.UntilTrainerAsync(s => s.Status == "stopped", "stopped");
            Assert.Equal(AfterStep(stop.Message), stopped.Step);
        }

        await app.Marker.AssertNoneLeftAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task WhenTrainingFinishesTheAppStopsWithTheTrainersExitCodeZero()
    {
        var app = await TestApp.StartAsync(Path.Combine(_root, "run"), ["--max-steps", "2", "--exit-when-done"]);
        await using (app)
        {
            var stopping = app.App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            Assert.Equal(0, await app.Outcome.TrainerExited.WaitAsync(TimeSpan.FromMinutes(3)));
            await Until(() => stopping.IsCancellationRequested, "the app stopping once the trainer exited");
            Assert.True(File.Exists(Path.Combine(app.Output, "checkpoint-2", "model.safetensors")));
        }

        await app.Marker.AssertNoneLeftAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task AFailingTrainersExitCodeReachesTheAppHost()
    {
        var app = await TestApp.StartAsync(Path.Combine(_root, "run"), ["--max-steps", "2", "--dataset", Path.Combine(_root, "no-such-tasks.jsonl")], awaitStart: false);
        await using (app)
        {
            // A missing dataset is bad input: exit code 2.
            Assert.Equal(2, await app.Outcome.TrainerExited.WaitAsync(TimeSpan.FromMinutes(3)));
            Assert.Equal(2, app.Outcome.ExitCode);
        }

        await app.Marker.AssertNoneLeftAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>The step a control request waits for, from the command's message (<c>checkpoint after step 7</c>).</summary>
    private static int AfterStep(string? message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message ?? string.Empty, "after step (\\d+)");
        Assert.True(match.Success, $"no afterStep in the trainer's answer: {message}");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task Until(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(200);
        }
    }
}
