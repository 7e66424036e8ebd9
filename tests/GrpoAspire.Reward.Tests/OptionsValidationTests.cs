using Microsoft.Extensions.Options;

namespace GrpoAspire.Reward.Tests;

/// <summary>Bad configuration stops the service at start-up with a message naming the setting.</summary>
public sealed class OptionsValidationTests
{
    private static async Task AssertStartFails(string setting, params string[] keyPhrases)
    {
        // Building already reads the options (gRPC's message limit derives from them); starting validates them all.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = RewardApp.Build(RewardServiceFixture.LoopbackArgs([setting]));
            await app.StartAsync();
            await app.StopAsync();
        });

        foreach (var phrase in keyPhrases)
        {
            Assert.Contains(phrase, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public Task ZeroMaxBatchSizeFailsStart() =>
        AssertStartFails("--Reward:MaxBatchSize=0", "MaxBatchSize");

    [Fact]
    public Task CompletionLimitBeyondTheMessageCapFailsStart() =>
        AssertStartFails("--Reward:MaxCompletionBytes=67108864", "could never be received");

    [Fact]
    public Task InFlightBudgetBelowTheLargestMessageFailsStart() =>
        AssertStartFails("--Reward:MaxInFlightMessageBytes=1048576", "Reward:MaxInFlightMessageBytes 1048576", "67108864", "could never be admitted");

    [Fact]
    public Task ZeroMessageReceiveSecondsFailsStart() =>
        AssertStartFails("--Reward:MessageReceiveSeconds=0", "MessageReceiveSeconds");
}
