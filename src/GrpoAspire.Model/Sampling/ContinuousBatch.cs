using GrpoAspire.Model.Qwen2;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Sampling;

/// <summary>
/// Host-side bookkeeping of a continuous batch: which sample each slot of the cache holds, the waiting queue (requests
/// in order, samples in order), the outputs. Between decode steps the active rows are the cache's prefix 0..n-1.
/// </summary>
internal sealed class ContinuousBatch : IDisposable
{
    private readonly IReadOnlyList<SamplingRequest> _requests;
    private readonly SamplingParams _parameters;
    private readonly SlotKvCache _cache;
    private readonly Func<IReadOnlyList<int>, string>? _decode;
    private readonly Action<int, int, GeneratedSequence>? _onFinished;
    private readonly HashSet<int> _eos;
    private readonly Row?[] _slots;
    private readonly GeneratedSequence[][] _results;
    private int _nextRequest;
    private int _nextSample;
    private (KvCache Cache, Tensor Logits)? _prefill;
    private int _active;
    private int _steps;
    private long _decodedRows;
    private int _prefills;
    private int _moves;

    public ContinuousBatch(
        IReadOnlyList<SamplingRequest> requests,
        SamplingParams parameters,
        SlotKvCache cache,
        Func<IReadOnlyList<int>, string>? decode,
        Action<int, int, GeneratedSequence>? onFinished)
    {
        _requests = requests;
        _parameters = parameters;
        _cache = cache;
        _decode = decode;
        _onFinished = onFinished;
        _eos = parameters.EosTokenIds.ToHashSet();
        _slots = new Row?[cache.Rows];
        _results = requests.Select(r => new GeneratedSequence[r.Samples]).ToArray();
    }

    /// <summary>
    /// Puts waiting samples into free slots (prefilling their request once, picking their first token from its
    /// logits), then, when nothing waits, moves the last rows into holes. Returns the number of active rows.
    /// </summary>
    public int Fill(
        Func<IReadOnlyList<int>, (KvCache Cache, Tensor Logits)> prefill,
        Func<Tensor, SamplingParams, float[]?, (Tensor Tokens, Tensor LogProbs)> pick)
    {
        while (_nextRequest < _requests.Count)
        {
            var request = _requests[_nextRequest];
            var free = FreeSlots(request.Samples - _nextSample);
            if (free.Count == 0)
            {
                break;
            }

            if (_prefill is null)
            {
                _prefill = prefill(request.PromptIds);
                _prefills++;
            }

            var (prompt, logits) = _prefill.Value;
            var rows = free.Select((_, k) => NewRow(_nextRequest, _nextSample + k, request)).ToArray();
            using (var scope = NewDisposeScope())
            {
                var (tokens, logProbs) = pick(logits.expand(rows.Length, -1), _parameters, Uniforms(rows));
                var hostTokens = tokens.cpu().data<long>().ToArray();
                var hostLogProbs = logProbs.cpu().data<float>().ToArray();
                for (var k = 0; k < rows.Length; k++)
                {
                    if (!Add(rows[k], hostTokens[k], hostLogProbs[k]))
                    {
                        _cache.Load(free[k], prompt);
                        _slots[free[k]] = rows[k];
                    }
                }
            }

            _nextSample += rows.Length;
            if (_nextSample == request.Samples)
            {
                DisposePrefill();
                _nextRequest++;
                _nextSample = 0;
            }
        }

        if (_nextRequest == _requests.Count)
        {
            Compact();
        }

        _active = _slots.Count(s => s is not null);
        return _active;
    }

    /// <summary>The decode step's inputs for rows 0..n-1: last tokens, their positions (= write columns), the columns to attend.</summary>
    public (long[] Ids, long[] Positions, int AttendLength) StepInputs()
    {
        var ids = new long[_active];
        var positions = new long[_active];
        for (var i = 0; i < _active; i++)
        {
            var row = _slots[i] ?? throw new InvalidOperationException($"slot {i} is empty inside the active prefix");
            ids[i] = row.Tokens[^1];
            positions[i] = row.Length;
        }

        return (ids, positions, (int)positions.Max() + 1);
    }

    /// <summary>One uniform per active row from its own stream, or null for greedy decoding.</summary>
    public float[]? Uniforms(int rows) => Uniforms(_slots.Take(rows).Select(r => r!).ToArray());

    /// <summary>Appends the decode step's tokens to rows 0..n-1; finished rows leave their slots.</summary>
    public void Append(long[] tokens, float[] logProbs)
    {
        _steps++;
        _decodedRows += _active;
        for (var i = 0; i < _active; i++)
        {
            var row = _slots[i]!;
            row.Length++; // the token fed this step is now in the cache
            if (Add(row, tokens[i], logProbs[i]))
            {
                _slots[i] = null;
            }
        }
    }

    public ContinuousResults Results() => new(
        _results,
        new ContinuousBatchStats(_cache.Rows, _cache.Capacity, _steps, _decodedRows, _prefills, _moves));

    public void Dispose() => DisposePrefill();

    private float[]? Uniforms(Row[] rows)
    {
        if (_parameters.Temperature == 0)
        {
            return null;
        }

        var uniforms = new float[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            uniforms[i] = (float)rows[i].Random.NextUnit();
        }

        return uniforms;
    }

    /// <summary>Adds a token; true when the row finished (its result is recorded and reported).</summary>
    private bool Add(Row row, long token, float logProb)
    {
        row.Tokens.Add((int)token);
        row.LogProbs.Add(logProb);
        var reason = DecodeState.Finish(row.Tokens, row.Tokens.Count, row.MaxNewTokens, _eos, _parameters.StopStrings, _decode);
        if (reason is null)
        {
            return false;
        }

        var sequence = new GeneratedSequence(row.Tokens.ToArray(), row.LogProbs.ToArray(), reason.Value);
        _results[row.Request][row.Sample] = sequence;
        _onFinished?.Invoke(row.Request, row.Sample, sequence);
        return true;
    }

    private Row NewRow(int requestIndex, int sample, SamplingRequest request)
    {
        var seed = request.Seed is { } own ? (ulong)own : SplitMix64.Mix((ulong)_parameters.Seed) + (ulong)requestIndex;
        return new Row(requestIndex, sample, request.MaxNewTokens ?? _parameters.MaxNewTokens, request.PromptIds.Count, SplitMix64.ForSample(seed, sample));
    }

    /// <summary>Up to <paramref name="wanted"/> free slots, lowest first.</summary>
    private List<int> FreeSlots(int wanted)
    {
        var free = new List<int>();
        for (var slot = 0; slot < _slots.Length && free.Count < wanted; slot++)
        {
            if (_slots[slot] is null)
            {
                free.Add(slot);
            }
        }

        return free;
    }

    /// <summary>Moves the last rows into the holes so the active rows are a prefix of the cache.</summary>
    private void Compact()
    {
        var last = _slots.Length - 1;
        for (var hole = 0; hole < _slots.Length; hole++)
        {
            if (_slots[hole] is not null)
            {
                continue;
            }

            while (last > hole && _slots[last] is null)
            {
                last--;
            }

            if (last <= hole)
            {
                break;
            }

            _cache.Move(last, hole, _slots[last]!.Length);
            (_slots[hole], _slots[last]) = (_slots[last], null);
            _moves++;
        }
    }

    private void DisposePrefill()
    {
        if (_prefill is { } prefill)
        {
            prefill.Cache.Dispose();
            prefill.Logits.Dispose();
            _prefill = null;
        }
    }

    /// <summary>One sample in a slot: its outputs, the positions its slot holds, its random stream.</summary>
    private sealed class Row(int request, int sample, int maxNewTokens, int promptLength, SplitMix64 random)
    {
        public int Request { get; } = request;

        public int Sample { get; } = sample;

        public int MaxNewTokens { get; } = maxNewTokens;

        public List<int> Tokens { get; } = [];

        public List<float> LogProbs { get; } = [];

        /// <summary>Cache columns written: the prompt, then every token but the last.</summary>
        public int Length { get; set; } = promptLength;

        // A field, not a property: NextUnit advances the stream in place.
        public SplitMix64 Random = random;
    }
}
