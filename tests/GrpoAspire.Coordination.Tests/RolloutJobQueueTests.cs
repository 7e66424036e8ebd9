using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Coordination.Tests;

public sealed class RolloutJobQueueTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task JobsEnqueuedAreReadOnceAcrossTwoConsumersOfTheGroup()
    {
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun());
        await queue.EnsureGroupAsync();
        var ids = await queue.EnqueueAsync(RedisFixture.Jobs(step: 1, count: 50));
        Assert.Equal(50, ids.Distinct().Count());

        var byConsumer = new Dictionary<string, List<QueuedJob>> { ["replica-a"] = [], ["replica-b"] = [] };
        var drained = false;
        while (!drained)
        {
            drained = true;
            foreach (var (consumer, got) in byConsumer)
            {
                var jobs = await queue.ReadAsync(consumer, count: 7);
                got.AddRange(jobs);
                drained &= jobs.Count == 0;
            }
        }

        var all = byConsumer.Values.SelectMany(j => j).ToList();
        Assert.Equal(50, all.Count);
        Assert.Equal(
            Enumerable.Range(0, 50).Select(i => $"1/{i}").Order(),
            all.Select(j => j.Job.JobId).Order());
        Assert.Equal(ids.Order(), all.Select(j => j.EntryId).Order());
        Assert.All(byConsumer.Values, got => Assert.NotEmpty(got));
        Assert.Equal(RedisFixture.Job(1, 3), all.Single(j => j.Job.JobId == "1/3").Job);

        Assert.Equal(50, await queue.PendingCountAsync());
        Assert.Equal(50, await queue.AckAsync([.. all.Select(j => j.EntryId)]));
        Assert.Equal(0, await queue.PendingCountAsync());
        Assert.Equal(0, await queue.LengthAsync());
    }

    [Fact]
    public async Task JobsEnqueuedBeforeTheGroupExistsAreStillDelivered()
    {
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun());
        await queue.EnqueueAsync(RedisFixture.Jobs(step: 0, count: 3));

        var jobs = await queue.ReadAsync("replica-a", count: 10);

        Assert.Equal(["0/0", "0/1", "0/2"], jobs.Select(j => j.Job.JobId));
        Assert.False(await queue.EnsureGroupAsync());
    }

    [Fact]
    public async Task AJobReadByAConsumerThatNeverAcksIsReclaimedByAnotherAfterMinIdle()
    {
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun());
        await queue.EnqueueAsync(RedisFixture.Jobs(step: 2, count: 3));
        var read = await queue.ReadAsync("replica-dead", count: 10);
        Assert.Equal(3, read.Count);

        Assert.Empty(await queue.ReclaimAsync("replica-b", TimeSpan.FromHours(1), count: 10));
        Assert.Empty(await queue.ReadAsync("replica-b", count: 10));

        await Task.Delay(TimeSpan.FromMilliseconds(150));
        var reclaimed = await queue.ReclaimAsync("replica-b", TimeSpan.FromMilliseconds(100), count: 10);

        Assert.Equal(read.Select(j => j.EntryId), reclaimed.Select(j => j.EntryId));
        Assert.Equal(read.Select(j => j.Job), reclaimed.Select(j => j.Job));
        Assert.Empty(await queue.ReclaimAsync("replica-c", TimeSpan.FromHours(1), count: 10));
        Assert.Equal(3, await queue.AckAsync([.. reclaimed.Select(j => j.EntryId)]));
        Assert.Equal(0, await queue.PendingCountAsync());
    }

    [Fact]
    public async Task AckedJobsAreNotReclaimed()
    {
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun());
        await queue.EnqueueAsync(RedisFixture.Jobs(step: 3, count: 4));
        var read = await queue.ReadAsync("replica-a", count: 4);
        Assert.True(await queue.AckAsync(read[0].EntryId));
        Assert.True(await queue.AckAsync(read[2].EntryId));
        Assert.False(await queue.AckAsync(read[2].EntryId));

        await Task.Delay(TimeSpan.FromMilliseconds(100));
        var reclaimed = await queue.ReclaimAsync("replica-b", TimeSpan.FromMilliseconds(50), count: 10);

        Assert.Equal(["3/1", "3/3"], reclaimed.Select(j => j.Job.JobId));
        Assert.Equal(2, await queue.LengthAsync());
    }

    [Fact]
    public async Task WaitForJobsReturnsJobsEnqueuedWhileItWaits()
    {
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var waiting = queue.WaitForJobsAsync("replica-a", count: 8, TimeSpan.FromMilliseconds(20), timeout.Token);
        await Task.Delay(TimeSpan.FromMilliseconds(100));
        Assert.False(waiting.IsCompleted);

        await queue.EnqueueAsync(RedisFixture.Jobs(step: 4, count: 2));

        Assert.Equal(["4/0", "4/1"], (await waiting).Select(j => j.Job.JobId));
    }

    [Fact]
    public async Task WaitForJobsTakesOverAbandonedJobsWhenThereAreNoNewOnes()
    {
        var options = new CoordinationOptions { ReclaimMinIdle = TimeSpan.FromMilliseconds(100) };
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun(), options);
        await queue.EnqueueAsync(RedisFixture.Jobs(step: 5, count: 2));
        Assert.Equal(2, (await queue.ReadAsync("replica-dead", count: 2)).Count);
        await queue.EnqueueAsync([RedisFixture.Job(step: 5, promptIndex: 2)]);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var first = await queue.WaitForJobsAsync("replica-b", 8, TimeSpan.FromMilliseconds(20), timeout.Token);
        Assert.Equal(1, await queue.AckAsync([.. first.Select(j => j.EntryId)]));
        var second = await queue.WaitForJobsAsync("replica-b", 8, TimeSpan.FromMilliseconds(20), timeout.Token);

        Assert.Equal(["5/2"], first.Select(j => j.Job.JobId));
        Assert.Equal(["5/0", "5/1"], second.Select(j => j.Job.JobId));
    }

    [Fact]
    public async Task WaitForJobsEndsWhenCanceled()
    {
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun());
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            queue.WaitForJobsAsync("replica-a", 1, TimeSpan.FromMilliseconds(20), cancel.Token));
    }

    [Fact]
    public async Task EnqueueBoundsTheStreamLength()
    {
        var options = new CoordinationOptions { JobsMaxLength = 1_000 };
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun(), options);
        await queue.EnqueueAsync(RedisFixture.Jobs(step: 6, count: 3_000));

        var length = await queue.LengthAsync();

        // MAXLEN ~ trims whole stream nodes (100 entries each by default), so it may keep a little more.
        Assert.InRange(length, 1_000, 1_200);
    }

    [Fact]
    public async Task ReadsAboveTheBoundOrWithoutAConsumerNameAreRejected()
    {
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun(), new CoordinationOptions { MaxEntriesPerRead = 16 });

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReadAsync("replica-a", 17));
        Assert.Contains("MaxEntriesPerRead (16)", error.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReadAsync("replica-a", 0));
        await Assert.ThrowsAsync<ArgumentException>(() => queue.ReadAsync(" ", 1));
    }

    [Fact]
    public async Task AJobWithoutAnIdIsNotEnqueued()
    {
        var queue = new RolloutJobQueue(redis.Redis, redis.NewRun());

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            queue.EnqueueAsync([RedisFixture.Job(7, 0), new RolloutJob { Step = 7 }]));

        Assert.Contains("job_id is empty", error.Message);
        Assert.Equal(0, await queue.LengthAsync());
    }

    [Fact]
    public void OptionsOutOfRangeAreRejectedWithTheirName()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new RolloutJobQueue(redis.Redis, redis.NewRun(), new CoordinationOptions { MaxEntriesPerRead = 0 }));

        Assert.Contains("MaxEntriesPerRead", error.Message);
    }
}
