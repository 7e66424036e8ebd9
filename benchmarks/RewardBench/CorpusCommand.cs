using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using GrpoAspire.Benchmarks.Reward.Corpus;

namespace GrpoAspire.Benchmarks.Reward;

/// <summary>
/// <c>make-corpus</c>: writes <c>{"id", "kind", "completion", "nums", "target"}</c> lines, the input format of
/// <c>grpo score</c> plus the kind, and prints the mix it wrote as JSON.
/// </summary>
internal static class CorpusCommand
{
    public static int Run(BenchArguments arguments)
    {
        var count = arguments.Int32("count", 200_000);
        var seed = arguments.UInt64("seed", 7);
        var tasks = arguments.Int32("tasks", Math.Max(1, count / CorpusGenerator.GroupSize));
        var output = arguments.String("output");
        var watch = Stopwatch.StartNew();
        var generator = new CorpusGenerator(seed, tasks);
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        long completionChars = 0;
        using (var stream = File.Create(output))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var id = 0;
            foreach (var line in generator.Generate(count))
            {
                json.WriteStartObject();
                json.WriteNumber("id", id++);
                json.WriteString("kind", line.Kind);
                json.WriteString("completion", line.Completion);
                json.WriteStartArray("nums");
                foreach (var n in line.Nums)
                {
                    json.WriteNumberValue(n);
                }

                json.WriteEndArray();
                json.WriteNumber("target", line.Target);
                json.WriteEndObject();
                json.Flush();
                json.Reset();
                stream.WriteByte((byte)'\n');
                kinds[line.Kind] = kinds.GetValueOrDefault(line.Kind) + 1;
                completionChars += line.Completion.Length;
            }
        }

        var description = new
        {
            file = Path.GetFullPath(output),
            completions = count,
            seed,
            tasks,
            completions_per_task = CorpusGenerator.GroupSize,
            mean_completion_chars = Math.Round((double)completionChars / Math.Max(1, count), 1),
            kinds,
            mix = CorpusGenerator.Mix.ToDictionary(m => m.Kind, m => new { share = m.Share, description = m.Description }),
            generated_in_s = Math.Round(watch.Elapsed.TotalSeconds, 2),
        };
        Console.WriteLine(JsonSerializer.Serialize(description, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return 0;
    }
}
