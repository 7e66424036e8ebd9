using GrpoAspire.Reward.Admission;

namespace GrpoAspire.Reward.Tests;

public sealed class MessageBudgetTests
{
    [Fact]
    public void AReservationThatDoesNotFitTakesNothing()
    {
        var budget = new MessageBudget(100);

        Assert.True(budget.TryReserve(60));
        Assert.False(budget.TryReserve(41));
        Assert.Equal(60, budget.InUse);
        Assert.True(budget.TryReserve(40));
        Assert.Equal(100, budget.InUse);
    }

    [Fact]
    public void ReleasedBytesCanBeReservedAgain()
    {
        var budget = new MessageBudget(100);
        Assert.True(budget.TryReserve(100));

        budget.Release(100);

        Assert.True(budget.TryReserve(100));
    }

    [Fact]
    public void ReleasingMoreThanWasReservedThrows()
    {
        var budget = new MessageBudget(100);
        Assert.True(budget.TryReserve(10));

        Assert.Throws<InvalidOperationException>(() => budget.Release(11));
    }

    [Fact]
    public async Task ConcurrentReservationsNeverExceedTheCapacity()
    {
        var budget = new MessageBudget(1000);
        var granted = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => budget.TryReserve(100))));

        Assert.Equal(10, granted.Count(g => g));
        Assert.Equal(1000, budget.InUse);
    }
}
