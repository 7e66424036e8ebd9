using GrpoAspire.Countdown;
using GrpoAspire.Samples.ExtractTotal;
using GrpoAspire.Tasks;
using GrpoAspire.Tasks.Prompts;

namespace GrpoAspire.Countdown.Tests;

/// <summary>
/// samples/ExtractTotalTask, the README's "Bring your own task" example, in a catalog beside a built-in task: its records
/// file, its template file and its reward functions, as the trainer and the reward service would use them.
/// </summary>
public class ExtractTotalTaskTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "ExtractTotalTask");
    private static readonly TaskCatalog Catalog = new([CountdownDefinition.Instance, new ExtractTotalDefinition()]);

    [Fact]
    public async Task ItsRecordsFileLoadsItsTemplateRendersThemAndItsRewardsScoreThem()
    {
        var task = Catalog.Task(ExtractTotalDefinition.Name);
        var records = await TaskRecordFile.ReadJsonLinesAsync(Path.Combine(Folder, "records.jsonl"), task);
        var template = PromptTemplate.Get("extract-total.json", Folder);
        var scorer = Catalog.Scorer(ExtractTotalDefinition.Name, []);

        Assert.Equal(3, records.Count);
        Assert.Contains("Invoice 4411 from Acme: 3 items, total 918.20 EUR", template.Render(records[0]), StringComparison.Ordinal);
        var solved = scorer.Score("The line says total 918.20 EUR.\n</think>\n<answer>918.20</answer>", records[0]);
        Assert.Equal((2.0, ITaskJudge.Correct), (solved.Total, solved.Verdict));
        var wrong = scorer.Score("Due 2027-01-31.\n</think>\n<answer>2027-01-31</answer>", records[0]);
        Assert.Equal((1.0, "wrong_total"), (wrong.Total, wrong.Verdict));
        var unformatted = scorer.Score("918.20", records[0]);
        Assert.Equal((0.0, "no_answer"), (unformatted.Total, unformatted.Verdict));
    }

    [Fact]
    public void ItsGeneratorNeverDrawsAHeldOutRecordAndABadRecordNamesTheField()
    {
        var task = Catalog.Task(ExtractTotalDefinition.Name);
        var heldOut = task.HeldOut(100);
        var keys = heldOut.Select(task.Key).ToHashSet();

        Assert.Equal(heldOut.Select(r => r.Json), task.HeldOut(100).Select(r => r.Json));
        Assert.DoesNotContain(task.Generate(42, heldOut).Take(2000), r => keys.Contains(task.Key(r)));
        var error = Assert.Throws<TaskRecordException>(() => task.Validate(TaskRecord.Parse(ExtractTotalDefinition.Name, """{"text": "Invoice 1"}""")));
        Assert.Contains("no field \"total\"", error.Message, StringComparison.Ordinal);
    }
}
