using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Grpo.Tests;

public sealed class LearningRateScheduleTests
{
    [Fact]
    public void CosineWithWarmupFollowsTransformers()
    {
        // The seed: 450 steps, warmup_ratio 0.03 -> 14 warm-up steps, cosine to 0.
        var schedule = new LearningRateSchedule(5e-7, LrSchedulerType.Cosine, 450, 0.03);
        Assert.Equal(14, schedule.WarmupSteps);
        Assert.Equal(0.0, schedule.At(0));
        Assert.Equal(5e-7 * 7 / 14, schedule.At(7), 15);
        Assert.Equal(5e-7, schedule.At(14), 15);
        Assert.Equal(2.5e-7, schedule.At(14 + 218), 15);
        Assert.Equal(0.0, schedule.At(450), 15);
    }

    [Fact]
    public void LinearDecaysToZeroAndConstantStaysAtThePeak()
    {
        var linear = new LearningRateSchedule(1e-3, LrSchedulerType.Linear, 100, 0.0);
        Assert.Equal(1e-3, linear.At(0), 12);
        Assert.Equal(5e-4, linear.At(50), 12);
        Assert.Equal(0.0, linear.At(100), 12);
        Assert.Equal(1e-3, new LearningRateSchedule(1e-3, LrSchedulerType.Constant, 100, 0.1).At(99), 12);
    }
}
