using GrpoAspire.Trainer.RunPage;

namespace GrpoAspire.EndToEnd.Tests;

/// <summary>The run page's reader of <c>completion_samples/*.txt</c> (moved here from the dashboard, with its tests).</summary>
public sealed class CompletionSamplesFileTests
{
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
    public void SamplesComeNewestFirstWithTheirHeaderAndTextAndNoneWithoutAFile()
    {
        var run = Directory.CreateTempSubdirectory("run-samples-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(run, CompletionSamplesFile.Folder));
            File.WriteAllText(Path.Combine(run, CompletionSamplesFile.Folder, CompletionSamplesFile.SampledFileName),
                "\n\n==== step 1 | 3 4 -> 7 | reward 0.00 (no_answer) ====\n<think>hmm\n\n==== step 2 | 3 4 -> 7 | reward 2.00 (correct) ====\n<think>3+4</think>\n<answer>3 + 4</answer>");

            var samples = CompletionSamplesFile.Sampled(run).GetLatest(10);

            Assert.Equal([2, 1], samples.Select(sample => sample.Step));
            Assert.Equal("step 2 | 3 4 -> 7 | reward 2.00 (correct)", samples[0].Header);
            Assert.Equal("<think>3+4</think>\n<answer>3 + 4</answer>", samples[0].Text);
            Assert.Equal("<think>hmm", samples[1].Text);
            Assert.Empty(CompletionSamplesFile.Successes(run).GetLatest(10));
            Assert.Empty(CompletionSamplesFile.Sampled(run).GetLatest(0));
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }

    [Fact]
    public void ALongSampleIsCutWithoutSplittingASurrogatePair()
    {
        var emoji = string.Concat(Enumerable.Repeat("😀", 10));
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, $"\n\n==== step 3 | 1 2 -> 3 | reward 0.00 (wrong) ====\n{new string('x', 100)}");

            var sample = Assert.Single(new CompletionSamplesFile(path, maxSampleLength: 16).GetLatest(5));

            Assert.Equal(new string('x', 15) + "…", sample.Text);
            Assert.Equal("😀😀…", CompletionSamplesFile.Cut(emoji, 6));
            Assert.Equal("short", CompletionSamplesFile.Cut("short", 6));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
