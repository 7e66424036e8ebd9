using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Countdown.Traces;

namespace GrpoAspire.Countdown.Tests;

public sealed class CountdownCorpusTests
{
    private static readonly PromptTemplate[] Templates = [PromptTemplate.Get(PromptTemplate.Compact), PromptTemplate.Get(PromptTemplate.SeedR1)];

    private static readonly CountdownScorer Scorer = new([new(RewardFunction.Format, 1)]);

    [Fact]
    public void TheSameSeedGivesTheSameCorpusAndAnotherSeedAnother()
    {
        var first = CountdownCorpus.Generate(300, 11, Templates).Select(e => e.Prompt + e.Completion).ToList();
        var again = CountdownCorpus.Generate(300, 11, Templates).Select(e => e.Prompt + e.Completion).ToList();
        var other = CountdownCorpus.Generate(300, 12, Templates).Select(e => e.Prompt + e.Completion).ToList();

        Assert.Equal(first, again);
        Assert.True(first.Zip(other).Count(p => p.First != p.Second) > 250, "seeds 11 and 12 gave nearly the same corpus");
    }

    [Fact]
    public void AShorterCorpusIsAPrefixOfALongerOne()
    {
        // Blocks of examples are made in parallel by 16 generator shards: the count must not change what comes first.
        var longer = CountdownCorpus.Generate(1100, 5, Templates).Select(e => e.Task).ToList();
        var shorter = CountdownCorpus.Generate(1030, 5, Templates).Select(e => e.Task).ToList();

        Assert.Equal(shorter, longer.Take(1030));
        Assert.True(longer.Distinct().Count() > 1050, "the tasks repeat");
    }

    [Fact]
    public void TemplatesTakeTurnsAndEachPromptIsItsTemplateRenderedForTheTask()
    {
        foreach (var (example, index) in CountdownCorpus.Generate(40, 3, Templates).Select((e, i) => (e, i)))
        {
            var template = Templates[index % Templates.Length];
            Assert.Equal(template.Name, example.TemplateName);
            Assert.Equal(template.Render(CountdownDefinition.ToRecord(example.Task)), example.Prompt);
        }
    }

    [Fact]
    public void EveryCompletionIsAWellFormedSolverTraceForItsTask()
    {
        foreach (var example in CountdownCorpus.Generate(200, 9, Templates))
        {
            Assert.True(Scorer.Score(example.Completion, example.Task).ValueOf(RewardFunction.Format) == 1, example.Completion);
            Assert.Contains($"<answer>{example.Trace.Answer}</answer>", example.Completion, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(CountdownCorpus.MaxTasks + 1)]
    public void ATaskCountOutsideTheBoundsIsRejected(int tasks)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CountdownCorpus.Generate(tasks, 1, Templates));
    }

    [Fact]
    public void ACorpusNeedsATemplate()
    {
        var error = Assert.Throws<ArgumentException>(() => CountdownCorpus.Generate(1, 1, []));
        Assert.Contains("at least one prompt template", error.Message, StringComparison.Ordinal);
    }
}
