using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Countdown.Solver;
using GrpoAspire.Countdown.Traces;
using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Grpo.Sft;

/// <summary>A training task with the solver's answer.</summary>
public readonly record struct SolvedTask(CountdownTask Task, string Solution);

/// <summary>
/// One batch on the host: token ids [Rows, Length] right-padded, and the flat positions (row * Length + t) whose next
/// token is a completion token, with those tokens. Right padding needs no attention mask under causal attention:
/// padding comes after every real token, so no real token attends to it.
/// </summary>
public sealed record SftHostBatch(long[] InputIds, int Rows, int Length, long[] PredictingPositions, long[] Targets, int RealTokens)
{
    /// <summary>Tokens the loss is computed on (completion tokens and the end of turn).</summary>
    public int CompletionTokens => Targets.Length;
}

/// <summary>
/// The supervised examples, deterministic from a seed: example i is task <c>order_epoch[i mod N]</c> (each pass over
/// the tasks reshuffled with seed + epoch) with a fresh solver trace seeded by (seed, i), so every pass shows new
/// trials. Prompt and completion are tokenized apart, as the model meets them when it generates (the prompt is
/// given, the completion sampled), then the end-of-turn token is appended. Thread-safe.
/// </summary>
public sealed class SftExamples
{
    /// <summary>Task generator shards: a fixed count, so the tasks do not depend on how many cores built them.</summary>
    private const int Shards = 16;

    private readonly IReadOnlyList<SolvedTask> _tasks;
    private readonly QwenTokenizer _tokenizer;
    private readonly PromptTemplate _template;
    private readonly SolverTraceOptions _traces;
    private readonly ulong _seed;
    private readonly int _seqLen;
    private readonly int[]?[] _promptIds;
    private readonly Dictionary<long, int[]> _orders = [];

    public SftExamples(
        IReadOnlyList<SolvedTask> tasks, QwenTokenizer tokenizer, PromptTemplate template, SolverTraceOptions traces, ulong seed, int seqLen)
    {
        if (tasks.Count == 0)
        {
            throw new ArgumentException("the training set is empty", nameof(tasks));
        }

        (_tasks, _tokenizer, _template, _traces, _seed, _seqLen) = (tasks, tokenizer, template, traces, seed, seqLen);
        _promptIds = new int[]?[tasks.Count];
        PadTokenId = tokenizer.PadTokenId;
        EosTokenId = tokenizer.EosTokenId;
    }

    public int PadTokenId { get; }

    public int EosTokenId { get; }

    public int TaskCount => _tasks.Count;

    /// <summary>
    /// <paramref name="count"/> solvable tasks (3-4 numbers in 1..100, as the held-out set) none of which is in
    /// <paramref name="heldOut"/>, with their solver answers; built in parallel, the same for a seed on any machine.
    /// </summary>
    public static IReadOnlyList<SolvedTask> GenerateTasks(int count, ulong seed, IReadOnlyCollection<CountdownTask> heldOut)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var shards = new SolvedTask[Shards][];
        Parallel.For(0, Shards, shard =>
        {
            var size = (count / Shards) + (shard < count % Shards ? 1 : 0);
            var generator = new TaskGenerator(SolverTraces.ExampleSeed(seed, -1 - shard));
            shards[shard] = TaskSplits.ExcludingHeldOut(Enumerable.Range(0, int.MaxValue).Select(_ => generator.Next()), heldOut)
                .Take(size)
                .Select(task => new SolvedTask(task, CountdownSolver.Solve(task)!))
                .ToArray();
        });
        return Enumerable.Range(0, count).Select(i => shards[i % Shards][i / Shards]).ToArray();
    }

    /// <summary>Example <paramref name="index"/>: its task, trace and token ids (end of turn included, cut to the sequence length).</summary>
    public (SolvedTask Task, SolverTrace Trace, int[] PromptIds, int[] CompletionIds) Example(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var position = (int)(index % _tasks.Count);
        var taskIndex = Order(index / _tasks.Count)[position];
        var solved = _tasks[taskIndex];
        var prompt = _promptIds[taskIndex] ??= [.. _tokenizer.Encode(_template.Render(CountdownDefinition.ToRecord(solved.Task)))];
        var trace = SolverTraces.Create(solved.Task, solved.Solution, SolverTraces.ExampleSeed(_seed, index), _traces);
        var completion = _tokenizer.Encode(trace.Completion);
        var kept = System.Math.Max(0, System.Math.Min(completion.Count + 1, _seqLen - prompt.Length));
        var ids = new int[kept];
        for (var i = 0; i < kept; i++)
        {
            ids[i] = i < completion.Count ? completion[i] : EosTokenId;
        }

        return (solved, trace, prompt.Length > _seqLen ? prompt[^_seqLen..] : prompt, ids);
    }

    /// <summary>Examples <paramref name="first"/> .. first + size - 1 as one right-padded batch.</summary>
    public SftHostBatch Batch(long first, int size)
    {
        var examples = new (int[] Prompt, int[] Completion)[size];
        Parallel.For(0, size, row =>
        {
            var (_, _, prompt, completion) = Example(first + row);
            examples[row] = (prompt, completion);
        });
        var length = examples.Max(e => e.Prompt.Length + e.Completion.Length);
        var ids = new long[size * length];
        Array.Fill(ids, PadTokenId);
        var predicting = new List<long>();
        var targets = new List<long>();
        var real = 0;
        for (var row = 0; row < size; row++)
        {
            var (prompt, completion) = examples[row];
            var offset = row * length;
            for (var t = 0; t < prompt.Length; t++)
            {
                ids[offset + t] = prompt[t];
            }

            for (var t = 0; t < completion.Length; t++)
            {
                ids[offset + prompt.Length + t] = completion[t];
                // Completion token t is predicted from the position before it (the last prompt token for t = 0).
                predicting.Add(offset + prompt.Length + t - 1);
                targets.Add(completion[t]);
            }

            real += prompt.Length + completion.Length;
        }

        return new SftHostBatch(ids, size, length, [.. predicting], [.. targets], real);
    }

    private int[] Order(long epoch)
    {
        lock (_orders)
        {
            if (!_orders.TryGetValue(epoch, out var order))
            {
                order = Enumerable.Range(0, _tasks.Count).ToArray();
                new SeededRandom(_seed + (ulong)epoch).Shuffle(order);
                _orders[epoch] = order;
            }

            return order;
        }
    }
}
