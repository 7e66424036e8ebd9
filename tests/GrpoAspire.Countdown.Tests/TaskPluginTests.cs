using GrpoAspire.BuiltInTasks.Nearest;
using GrpoAspire.Countdown.Arithmetic;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Countdown.Solver;
using GrpoAspire.Tasks;
using GrpoAspire.Tasks.Prompts;

namespace GrpoAspire.Countdown.Tests;

/// <summary>Records, the catalog of built-in tasks, and countdown-nearest, the second task.</summary>
public sealed class TaskPluginTests
{
    private static readonly TaskCatalog Catalog = BuiltInTasks.BuiltInTasks.Catalog;

    private static TaskRecord Nearest(string json) => TaskRecord.Parse(NearestDefinition.Name, json);

    [Theory]
    [InlineData("[1, 2, 3]", 6, "0")]
    [InlineData("[1, 1, 1]", 10, "7")] // 1+1+1 is the most three ones make
    [InlineData("[2, 3]", 1, "0")] // 3-2
    [InlineData("[7, 2]", 4, "1/2")] // 7/2 = 3.5 beats every integer result (5, 9, 14, 3 1/2 ...)
    public void TheNearestDistanceIsExact(string nums, long target, string expected)
    {
        var numbers = nums.Trim('[', ']').Split(',').Select(long.Parse).ToArray();
        Assert.Equal(expected, CountdownSolver.NearestDistance(numbers, target).ToString());
    }

    [Fact]
    public void TheClosestAnswerSolvesARecordAndAFartherOneScoresLess()
    {
        var record = Nearest("""{"nums": [1, 1, 1], "target": 10}""");
        var scorer = Catalog.Scorer(NearestDefinition.Name, []);
        var closest = scorer.Score(" 1+1+1=3, as close as it gets</think>\n<answer>1+1+1</answer>", record);
        Assert.Equal(ITaskJudge.Correct, closest.Verdict);
        Assert.Equal(1.0, closest.ValueOf("closeness"));
        Assert.Equal(2.0, closest.Total);

        var farther = scorer.Score(" 1*1*1=1</think>\n<answer>1*1*1</answer>", record); // 9 away, 2 more than the best
        Assert.Equal("not_nearest", farther.Verdict);
        Assert.Equal(1.0 / 3.0, farther.ValueOf("closeness"), 12);
    }

    [Theory]
    [InlineData(" no idea</think>\n<answer>2+2+2</answer>", "numbers_mismatch")]
    [InlineData(" thinking", "no_answer")]
    [InlineData("</think>\n<answer>1**1*1</answer>", "power_operator")]
    public void AnAnswerWithoutAValidValueScoresNoCloseness(string completion, string verdict)
    {
        var result = Catalog.Scorer(NearestDefinition.Name, []).Score(completion, Nearest("""{"nums": [1, 1, 1], "target": 10}"""));
        Assert.Equal(verdict, result.Verdict);
        Assert.Equal(0.0, result.ValueOf("closeness"));
    }

    [Fact]
    public void TheHeldOutSetIsFixedDistinctAndNeverGenerated()
    {
        var task = Catalog.Task(NearestDefinition.Name);
        var heldOut = task.HeldOut(200);
        Assert.Equal(heldOut.Select(r => r.Json), task.HeldOut(200).Select(r => r.Json));
        Assert.Equal(200, heldOut.Select(task.Key).Distinct().Count());
        var keys = heldOut.Select(task.Key).ToHashSet();
        var generated = task.Generate(42, heldOut).Take(5000).ToArray();
        Assert.DoesNotContain(generated, r => keys.Contains(task.Key(r)));
    }

    [Fact]
    public void GeneratedTargetsLieWithinThreeOfWhatTheNumbersMakeSomeReachedAndSomeNot()
    {
        var task = Catalog.Task(NearestDefinition.Name);
        var distances = task.Generate(42, []).Take(2000)
            .Select(r => CountdownSolver.NearestDistance(r.GetInt64Array("nums", 6), r.GetInt64("target")).ToDouble())
            .ToArray();

        Assert.All(distances, d => Assert.InRange(d, 0, NearestGenerator.MaxOffset));
        var reached = distances.Count(d => d == 0) / (double)distances.Length;
        Assert.InRange(reached, 0.1, 0.5);
    }

    [Fact]
    public void ATemplateRendersTheRecordsFieldsAsTheCountdownPromptDid()
    {
        var record = Nearest("""{"nums": [14, 70, 80], "target": 120}""");
        Assert.Equal("Use [14, 70, 80] once each with + - * / ( ) to make 120.\n<think>", PromptTemplate.Get(PromptTemplate.Compact).Render(record));
    }

    [Fact]
    public void ATemplateFileBesideTheRecipeRendersAnyField()
    {
        var folder = Directory.CreateTempSubdirectory("template-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "mine.json"), """{"kind": "chat", "system": "Be exact.", "user": "Extract {field} from: {text}", "assistant_prefill": "<think>"}""");
            var template = PromptTemplate.Get("mine.json", folder);
            var record = TaskRecord.Parse("extract", """{"field": "the date", "text": "Paid on 2026-12-07.", "answer": "2026-12-07"}""");
            Assert.Contains("Extract the date from: Paid on 2026-12-07.", template.Render(record), StringComparison.Ordinal);
            Assert.Equal(["field", "text"], template.Placeholders.ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("countdown", "[1, 2]", "must be a JSON object")]
    [InlineData("countdown", "{\"nums\": [1, 2]", "not valid JSON")]
    [InlineData("Countdown", "{}", "task name 'Countdown' is not valid")]
    [InlineData("countdown", "{\"nums\": \"1 2\", \"target\": 3}", "field \"nums\" of a countdown record must be an array of integers")]
    [InlineData("countdown", "{\"nums\": [1, 2]}", "has no field \"target\"")]
    [InlineData("countdown", "{\"nums\": [1, 2, 3, 4, 5, 6, 7], \"target\": 3}", "holds 7 values, at most 6 allowed")]
    public void ABadRecordSaysWhatIsWrong(string task, string json, string message)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Catalog.Task("countdown").Validate(TaskRecord.Parse(task, json)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANearestRecordHoldsAtMostFourNumbersSoItsSearchStaysSmall()
    {
        var error = Assert.Throws<TaskRecordException>(() => Catalog.Task(NearestDefinition.Name).Validate(
            Nearest("""{"nums": [1, 2, 3, 4, 5], "target": 7}""")));
        Assert.Contains("holds 5 values, at most 4 allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARecordOverTheSizeLimitIsRefusedBeforeItIsParsed()
    {
        var error = Assert.Throws<TaskRecordException>(() => TaskRecord.Parse("countdown", "{\"x\": \"" + new string('a', TaskRecord.MaxJsonBytes) + "\"}"));
        Assert.Contains("exceeds the limit of 16384", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RewardFunctionNamesBelongToTheirTaskAndAnUnknownOneListsTheTasksOwn()
    {
        Assert.Equal(["format", "equation"], Catalog.Scorer("countdown", []).Weights.Select(w => w.Function));
        Assert.Equal(["format", "closeness"], Catalog.Scorer(NearestDefinition.Name, []).Weights.Select(w => w.Function));
        var error = Assert.Throws<ArgumentException>(() => Catalog.Scorer(NearestDefinition.Name, [new("equation", 1)]));
        Assert.Equal("reward_funcs[0]: unknown reward function 'equation' for countdown-nearest; valid: format, closeness", error.Message);
        var unknownTask = Assert.Throws<ArgumentException>(() => Catalog.Task("sql"));
        Assert.Contains("valid: countdown, countdown-nearest", unknownTask.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CountdownsVerdictsThroughTheCatalogAreTheScorersOwn()
    {
        var scorer = new CountdownScorer();
        var generic = Catalog.Scorer("countdown", []);
        foreach (var task in Datasets.TaskSplits.HeldOut(50))
        {
            var solution = CountdownSolver.Solve(task)!;
            foreach (var completion in new[] { $"</think>\n<answer>{solution}</answer>", "</think>\n<answer>1+1</answer>", " no answer" })
            {
                var direct = scorer.Score(completion, task);
                var viaRecord = generic.Score(completion, CountdownDefinition.ToRecord(task));
                Assert.Equal(direct.EquationVerdict.ToWireName(), viaRecord.Verdict);
                Assert.Equal(direct.Total, viaRecord.Total);
            }
        }
    }
}
