using GrpoAspire.Grpo.Math;

namespace GrpoAspire.Grpo.Training;

/// <summary>The micro-batches' sampler metrics together: means averaged, extremes kept.</summary>
internal sealed class SamplerMetricsSum
{
    private int _count;
    private double _mean = 0, _min = double.PositiveInfinity, _max = double.NegativeInfinity, _truncated = 0, _differenceMean = 0, _differenceMax = 0;

    public void Add(SamplerMetrics? metrics)
    {
        if (metrics is null)
        {
            return;
        }

        _count++;
        (_mean, _truncated, _differenceMean) = (_mean + metrics.WeightMean, _truncated + metrics.TruncatedFraction, _differenceMean + metrics.LogpDifferenceMean);
        (_min, _max) = (System.Math.Min(_min, metrics.WeightMin), System.Math.Max(_max, metrics.WeightMax));
        _differenceMax = System.Math.Max(_differenceMax, metrics.LogpDifferenceMax);
    }

    public SamplerMetrics? Result() => _count == 0
        ? null
        : new SamplerMetrics(_mean / _count, _min, _max, _truncated / _count, _differenceMean / _count, _differenceMax);
}
