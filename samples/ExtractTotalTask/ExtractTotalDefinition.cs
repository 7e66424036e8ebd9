using System.Globalization;
using GrpoAspire.Countdown;
using CompletionFormat = GrpoAspire.Countdown.Rewards.CompletionFormat;
using GrpoAspire.Tasks;

namespace GrpoAspire.Samples.ExtractTotal;

/// <summary>
/// extract-total, a task of your own: read an invoice line and answer its total. Records
/// <c>{"text": "Invoice 4411 from Acme: 3 items, total 918.20 EUR, due 2027-01-31.", "total": "918.20"}</c>; the reward
/// functions are <c>format</c> (the seed's <c>think</c>/<c>answer</c> shape) and <c>exact</c> (the answer is the total).
/// Register it beside the built-in tasks (src/GrpoAspire.BuiltInTasks/BuiltInTasks.cs) to train on it.
/// </summary>
public sealed class ExtractTotalDefinition : ITaskDefinition
{
    public const string Name = "extract-total";

    private static readonly string[] Vendors = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"];

    public string Task => Name;

    public string Description => "answer the total of an invoice line";

    public IReadOnlyList<IRewardFunction> RewardFunctions { get; } =
    [
        new RewardFunction<Invoice>(Name, "format", Read, (completion, _) => CompletionFormat.IsWellFormed(completion) ? 1.0 : 0.0),
        new RewardFunction<Invoice>(Name, "exact", Read, (completion, invoice) => Answer(completion) == invoice.Total ? 1.0 : 0.0),
    ];

    public IReadOnlyList<RewardWeight> DefaultRewards { get; } = [new("format", 1.0), new("exact", 1.0)];

    /// <summary>Not a built-in template: recipes of this task name a template file (extract-total.json).</summary>
    public string DefaultPromptTemplate => "extract-total.json";

    public string Verdict(string completion, TaskRecord record) =>
        Answer(completion) is not { } answer ? "no_answer"
        : answer == Read(record).Total ? ITaskJudge.Correct
        : "wrong_total";

    public void Validate(TaskRecord record) => Read(record);

    public string Key(TaskRecord record) => Read(record).Text;

    public IReadOnlyList<TaskRecord> HeldOut(int count) => Draw(seed: 7, count, []).ToArray();

    public IEnumerable<TaskRecord> Generate(ulong seed, IReadOnlyCollection<TaskRecord> heldOut) =>
        Draw(seed, int.MaxValue, heldOut.Select(Key).ToHashSet(StringComparer.Ordinal));

    /// <summary>The first answer's text, trimmed; null without one.</summary>
    private static string? Answer(string completion) =>
        CompletionFormat.FindFirstAnswer(completion) is { } range ? completion[range].Trim() : null;

    private static Invoice Read(TaskRecord record) => record.As(r => new Invoice(r.GetString("text"), r.GetString("total")));

    private static IEnumerable<TaskRecord> Draw(ulong seed, int count, HashSet<string> excluded)
    {
        var random = new SeededRandom(seed);
        for (var drawn = 0; drawn < count;)
        {
            var total = (random.Next(100, 1_000_000) / 100.0).ToString("F2", CultureInfo.InvariantCulture);
            var text = $"Invoice {random.Next(1000, 10000)} from {Vendors[random.Next(0, Vendors.Length)]}: "
                + $"{random.Next(1, 10)} items, total {total} EUR, due 2027-{random.Next(1, 13):D2}-{random.Next(1, 29):D2}.";
            if (!excluded.Contains(text))
            {
                drawn++;
                yield return TaskRecord.From(Name, new Invoice(text, total));
            }
        }
    }

    /// <summary>A record's fields, as the record's JSON names them.</summary>
    private sealed record Invoice(
        [property: System.Text.Json.Serialization.JsonPropertyName("text")] string Text,
        [property: System.Text.Json.Serialization.JsonPropertyName("total")] string Total);
}
