using GrpoAspire.Dashboard.Completions;
using GrpoAspire.Dashboard.Resources;
using GrpoAspire.Dashboard.Telemetry;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>The bounded pieces on their own: ring buffer, console buffer, catalog, samples file, text cutting.</summary>
public sealed class BufferTests
{
    [Fact]
    public void ARingBufferKeepsTheNewestItemsAndReportsWhatLeft()
    {
        var ring = new RingBuffer<int>(3);
        var evicted = new List<int>();
        for (var i = 1; i <= 5; i++)
        {
            if (ring.Add(i, out var gone))
            {
                evicted.Add(gone);
            }
        }

        Assert.Equal([3, 4, 5], ring.TakeLast(10));
        Assert.Equal([4, 5], ring.TakeLast(2));
        Assert.Equal([1, 2], evicted);
    }

    [Fact]
    public void AConsoleBufferKeepsItsCapacityCutsLongLinesAndNumbersEveryLine()
    {
        var buffer = new ConsoleLogBuffer(capacity: 100, maxLineLength: 20);
        Parallel.For(0, 1000, i => buffer.Append($"line {i}", isError: i % 2 == 0));
        buffer.Append(new string('x', 1000));

        var tail = buffer.Tail(int.MaxValue);
        Assert.Equal(100, tail.Count);
        Assert.Equal(1001, buffer.TotalLines);
        Assert.Equal(1001, tail[^1].Sequence);
        Assert.Equal(20, tail[^1].Text.Length);
        Assert.Equal(tail.Select(line => line.Sequence).Order(), tail.Select(line => line.Sequence));
    }

    [Fact]
    public void TheCatalogKeepsFirstSetOrderAndUpdatesAtomically()
    {
        var catalog = new ResourceCatalog();
        catalog.Set(new ResourceSnapshot { Name = "b", Type = ResourceType.Project });
        catalog.Set(new ResourceSnapshot { Name = "a", Type = ResourceType.Container });
        catalog.Set(new ResourceSnapshot { Name = "b", Type = ResourceType.Project, State = ResourceState.Running });

        Parallel.For(0, 100, _ => catalog.Update("a", a => a with { Restarts = a.Restarts + 1 }));

        Assert.Equal(["b", "a"], catalog.GetResources().Select(r => r.Name));
        Assert.Equal(ResourceState.Running, catalog.GetResources()[0].State);
        Assert.Equal(100, catalog.GetResources()[1].Restarts);
        Assert.NotNull(catalog.GetConsoleLogs("a"));
        Assert.Null(catalog.GetConsoleLogs("c"));
        Assert.Throws<KeyNotFoundException>(() => catalog.Update("c", c => c));
    }

    [Fact]
    public void TheSamplesFileReadsOnlyItsTailAndStartsAtAWholeSample()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var writer = new StreamWriter(path))
            {
                for (var step = 1; step <= 2000; step++)
                {
                    writer.Write($"\n\n==== step {step} | 1 2 -> 3 | reward 1.00 (wrong) ====\n<think>{new string('é', 100)}");
                }
            }

            var file = new CompletionSamplesFile(path, maxBytes: 4096);
            var samples = file.GetLatest(1000);

            Assert.InRange(samples.Count, 10, 20);
            Assert.Equal(2000, samples[0].Step);
            Assert.Equal(Enumerable.Range(0, samples.Count).Select(i => 2000 - i), samples.Select(sample => sample.Step!.Value));
            Assert.All(samples, sample => Assert.Equal("<think>" + new string('é', 100), sample.Text));
            Assert.Equal(3, file.GetLatest(3).Count);
            Assert.Empty(new CompletionSamplesFile(path + ".missing").GetLatest(10));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CutTextNeverSplitsASurrogatePair()
    {
        var emoji = string.Concat(Enumerable.Repeat("😀", 10));

        var cut = BoundedText.Cut(emoji, 6);

        Assert.Equal("😀😀…", cut);
        Assert.Equal("short", BoundedText.Cut("short", 6));
        Assert.Equal(string.Empty, BoundedText.Cut(null, 6));
    }
}
