using GrpoAspire.Generation.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrpoAspire.Generation.Tests;

/// <summary>A decode setting that names no loop or attention stops the replica before it loads a model, saying the valid names.</summary>
public sealed class GenerationOptionsTests
{
    private static OptionsValidationException BuildFails(string setting) =>
        Assert.Throws<OptionsValidationException>(() => GenerationApp.Build(
        [
            "--ConnectionStrings:redis=127.0.0.1:6379",
            "--Logging:LogLevel:Default=Warning",
            "--Generation:ModelPath=/no/model/here",
            "--Security:Token=unit-test-token",
            setting,
        ]));

    [Fact]
    public void AReplicaWithoutABearerTokenDoesNotStartAndSaysWhichSettingIsMissing()
    {
        var error = Assert.Throws<InvalidOperationException>(() => GenerationApp.Build(
        [
            "--ConnectionStrings:redis=127.0.0.1:6379",
            "--Logging:LogLevel:Default=Warning",
            "--Generation:ModelPath=/no/model/here",
        ]));
        Assert.Equal(
            "the generation replica needs a bearer token for Generate and the trainer's weight RPCs: set Security__Token (or Generation__Token)",
            error.Message);
    }

    [Fact]
    public void ContinuousBatchingIsTheDefaultOnACpuOnlyAndAnExplicitSettingWins()
    {
        // What the replica's own configuration (appsettings.json included) leaves unset; building it loads the model.
        var embedded = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(embedded.FullName, "models", "countdown-tiny", "config.json")))
        {
            embedded = embedded.Parent ?? throw new DirectoryNotFoundException("models/countdown-tiny above the test folder");
        }

        using var app = GenerationApp.Build(
        [
            "--ConnectionStrings:redis=127.0.0.1:6379",
            "--Logging:LogLevel:Default=Warning",
            $"--Generation:ModelPath={Path.Combine(embedded.FullName, "models", "countdown-tiny")}",
            "--Security:Token=unit-test-token",
        ]);
        var configured = app.Services.GetRequiredService<IOptions<GenerationOptions>>().Value;
        Assert.Null(configured.MaxBatchRows);
        Assert.Equal(configured.MaxBatchSequences, configured.BatchRowsOn(TorchSharp.torch.CPU));

        var cpu = TorchSharp.torch.CPU;
        var cuda = new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA, 0);
        var unset = new GenerationOptions { MaxBatchSequences = 96 };
        Assert.Equal(96, unset.BatchRowsOn(cpu));
        Assert.Equal(0, unset.BatchRowsOn(cuda));
        Assert.Equal(0, (unset with { MaxBatchRows = 0 }).BatchRowsOn(cpu));
        Assert.Equal(32, (unset with { MaxBatchRows = 32 }).BatchRowsOn(cuda));
    }

    [Fact]
    public void ABadDecodeLoopFailsListingTheValidLoops()
    {
        var error = BuildFails("--Generation:DecodeLoop=graphs");
        Assert.Contains("Generation:DecodeLoop='graphs' is not valid; valid: auto, eager, fixed, graph", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadDecodeAttentionFailsListingTheValidAttentions()
    {
        var error = BuildFails("--Generation:DecodeAttention=flash");
        Assert.Contains("Generation:DecodeAttention='flash' is not valid; valid: grouped, sdpa, sdpa-static", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheValidatorAcceptsTheDefaults() =>
        Assert.True(new GenerationOptionsValidator().Validate(null, new GenerationOptions()).Succeeded);
}
