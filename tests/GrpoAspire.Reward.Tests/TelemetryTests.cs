using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using static GrpoAspire.Reward.Tests.Requests;

namespace GrpoAspire.Reward.Tests;

public sealed class TelemetryTests(RewardServiceFixture service) : IClassFixture<RewardServiceFixture>
{
    [Fact]
    public async Task ScoringReportsAnActivityWithTheBatchSizeAndMetricsPerCompletion()
    {
        // Seven completions: no other test scores a batch of that size, though other classes run alongside.
        const int batchSize = 7;
        var activities = new ConcurrentQueue<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GrpoTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(activityListener);
        var completions = new ConcurrentBag<string>();
        var totals = new ConcurrentBag<double>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GrpoTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            completions.Add(tags.ToArray().Single(t => t.Key == "verdict").Value as string ?? ""));
        meterListener.SetMeasurementEventCallback<double>((_, value, _, _) => totals.Add(value));
        meterListener.Start();

        var batch = Enumerable.Range(0, batchSize).Select(i => Completion($"t{i}", Correct)).ToArray();
        await service.Client.ScoreAsync(Score(batch));

        var activity = Assert.Single(
            activities, a => a.OperationName == "reward.score" && Equals(a.GetTagItem("reward.batch_size"), batchSize));
        Assert.Equal(batchSize, activity.GetTagItem("reward.correct"));
        Assert.True(completions.Count(v => v == "correct") >= batchSize);
        Assert.True(totals.Count(v => v == 2.0) >= batchSize);
    }
}
