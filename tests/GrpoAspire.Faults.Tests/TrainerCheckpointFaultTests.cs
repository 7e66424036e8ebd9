namespace GrpoAspire.Faults.Tests;

/// <summary>The trainer service resuming from its run folder on its own: a corrupt newest checkpoint is reported as grpo train reports it.</summary>
public sealed class TrainerCheckpointFaultTests
{
    [Fact]
    public async Task ATrainerResumingFromACorruptCheckpointExits2NamingTheFileAndTheNewestIntactOne()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 4, saveSteps: 1));
        using (var cli = await GrpoCliProcess.RunAsync(
            TimeSpan.FromMinutes(2), "train", "--recipe", cluster.RecipePath, "--output", cluster.RunFolder, "--model", cluster.ModelFolder, "--max-steps", "2"))
        {
            Assert.True(cli.ExitCode == 0, cli.Error);
        }

        var optimizer = Path.Combine(cluster.RunFolder, "checkpoint-2", "optimizer.bin");
        var size = new FileInfo(optimizer).Length;
        using (var stream = new FileStream(optimizer, FileMode.Open))
        {
            stream.SetLength(size - 1);
        }

        var trainer = await cluster.StartTrainerAsync(new() { ["Trainer__ExitWhenDone"] = "true" }, waitUntilHealthy: false);

        Assert.Equal(2, await trainer.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains(
            $"training failed: {optimizer}: {size - 1} bytes, the manifest says {size}; the newest intact checkpoint is {Path.Combine(cluster.RunFolder, "checkpoint-1")}",
            trainer.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", trainer.Log, StringComparison.Ordinal);
    }
}
