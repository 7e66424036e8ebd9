namespace GrpoAspire.Coordination.Tests;

public sealed class RunKeysTests
{
    [Fact]
    public void EveryKeyAndTheChannelOfARunShareItsPrefix()
    {
        var keys = new RunKeys("countdown-3b_v1.2");

        Assert.Equal("grpo:countdown-3b_v1.2:", keys.Prefix);
        Assert.Equal("grpo:countdown-3b_v1.2:jobs", keys.Jobs);
        Assert.Equal("grpo:countdown-3b_v1.2:rollouts", keys.Rollouts);
        Assert.Equal("grpo:countdown-3b_v1.2:weights:version", keys.WeightsVersion);
        Assert.Equal("grpo:countdown-3b_v1.2:weights", keys.WeightsChannel);
        Assert.Equal("grpo:countdown-3b_v1.2:trainer", keys.TrainerState);
        string[] all = [keys.Jobs, keys.Rollouts, keys.WeightsVersion, keys.WeightsChannel, keys.TrainerState];
        Assert.Equal(all.Length, all.Distinct().Count());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("run:jobs")]
    [InlineData("{run}")]
    [InlineData("run*")]
    [InlineData("café")]
    [InlineData("run\n")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 65
    public void RunNamesOutsideLettersDigitsDotDashUnderscoreUpTo64AreRejected(string run)
    {
        var error = Assert.Throws<ArgumentException>(() => new RunKeys(run));
        Assert.Contains("1 to 64 characters", error.Message);
        Assert.False(RunKeys.IsValidRun(run));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("Run_2024-11-25.1")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 64
    public void RunNamesOfLettersDigitsDotDashUnderscoreUpTo64AreAccepted(string run)
    {
        Assert.Equal(run, new RunKeys(run).Run);
        Assert.True(RunKeys.IsValidRun(run));
    }

    [Fact]
    public void ANullRunNameIsRejected() => Assert.Throws<ArgumentNullException>(() => new RunKeys(null!));
}
