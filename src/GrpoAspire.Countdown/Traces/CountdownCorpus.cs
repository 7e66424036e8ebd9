using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Countdown.Solver;

namespace GrpoAspire.Countdown.Traces;

/// <summary>One generated task as a model meets it: the rendered prompt and a solver trace completing it.</summary>
public sealed record CorpusExample(CountdownTask Task, string TemplateName, string Prompt, SolverTrace Trace)
{
    /// <summary>The completion: the reasoning trace, then <c>&lt;/think&gt;</c> and the answer.</summary>
    public string Completion => Trace.Completion;
}

/// <summary>
/// Countdown text for training a tokenizer, deterministic from a seed: solvable tasks from seeded
/// <see cref="TaskGenerator"/>s, each rendered with a prompt template (round robin over the templates given) and
/// completed by a fresh solver trace (trial equations with their values and checks, the answer). Prompt and
/// completion stay apart, as the model tokenizes them (the prompt is given, the completion generated). Tasks come
/// from a fixed number of generator shards made in parallel, so they do not depend on how many cores made them.
/// </summary>
public static class CountdownCorpus
{
    /// <summary>The most tasks one corpus holds.</summary>
    public const int MaxTasks = 1_000_000;

    /// <summary>Generator shards: task i comes from shard i mod 16 (seeded as SftExamples' shards are).</summary>
    private const int Shards = 16;

    /// <summary>Examples made together (a multiple of <see cref="Shards"/>), so enumeration stays lazy and bounded.</summary>
    private const int BlockSize = 64 * Shards;

    /// <summary>
    /// <paramref name="tasks"/> examples; task i uses template <c>i mod templates.Count</c> and the trace seeded by
    /// <see cref="SolverTraces.ExampleSeed"/>(seed, i). Lazy: examples are made a block at a time as they are enumerated.
    /// </summary>
    public static IEnumerable<CorpusExample> Generate(
        int tasks, ulong seed, IReadOnlyList<PromptTemplate> templates, SolverTraceOptions? traces = null)
    {
        if (tasks is < 0 or > MaxTasks)
        {
            throw new ArgumentOutOfRangeException(nameof(tasks), tasks, $"a corpus holds 0 to {MaxTasks} tasks");
        }

        ArgumentNullException.ThrowIfNull(templates);
        if (templates.Count == 0)
        {
            throw new ArgumentException("a corpus needs at least one prompt template", nameof(templates));
        }

        traces ??= new SolverTraceOptions();
        traces.Validate();
        return Examples(tasks, seed, templates, traces);
    }

    private static IEnumerable<CorpusExample> Examples(int tasks, ulong seed, IReadOnlyList<PromptTemplate> templates, SolverTraceOptions traces)
    {
        var generators = Enumerable.Range(0, Shards).Select(s => new TaskGenerator(SolverTraces.ExampleSeed(seed, -1 - s))).ToArray();
        for (var first = 0; first < tasks; first += BlockSize)
        {
            var block = new CorpusExample[Math.Min(BlockSize, tasks - first)];
            Parallel.For(0, Shards, shard =>
            {
                // first is a multiple of Shards, so shard s makes the block's examples s, s + Shards, ... in its order.
                for (var offset = shard; offset < block.Length; offset += Shards)
                {
                    block[offset] = Example(first + offset, generators[shard].Next(), seed, templates, traces);
                }
            });
            foreach (var example in block)
            {
                yield return example;
            }
        }
    }

    private static CorpusExample Example(int index, CountdownTask task, ulong seed, IReadOnlyList<PromptTemplate> templates, SolverTraceOptions traces)
    {
        var solution = CountdownSolver.Solve(task)
            ?? throw new InvalidOperationException($"the generator made {task}, which has no solution");
        var template = templates[index % templates.Count];
        var trace = SolverTraces.Create(task, solution, SolverTraces.ExampleSeed(seed, index), traces);
        return new CorpusExample(task, template.Name, template.Render(CountdownDefinition.ToRecord(task)), trace);
    }
}
