using System.Runtime.InteropServices;

namespace GrpoAspire.Model.Tokenization;

/// <summary>
/// The merge loop of <see cref="BpeTrainer"/>: distinct words as symbol-id arrays with their counts, the count of
/// every adjacent pair, the words each pair occurs in, and a max-heap of pairs by count. The heap is lazy: counts of
/// pairs without the newly merged token only ever go down, so a popped entry whose count is stale is pushed again
/// with the current count; pairs with the new token are pushed as they appear. Each merge rescans only the words that
/// hold the merged pair.
/// </summary>
internal sealed class BpeMerger
{
    private readonly List<string> _tokens = [.. TokenizerJsonWriter.ByteTokens];
    private readonly Dictionary<string, int> _ids;
    private readonly int[][] _symbols;
    private readonly int[] _lengths;
    private readonly long[] _counts;
    private readonly Dictionary<long, long> _pairCounts = [];
    private readonly Dictionary<long, HashSet<int>> _pairWords = [];
    private readonly PriorityQueue<long, (long Count, long Pair)> _queue = new(HeapOrder.Instance);
    private readonly int _minFrequency;

    /// <param name="words">distinct words as UTF-8 bytes, with how often each occurs</param>
    /// <param name="minFrequency">pairs seen fewer times are never merged</param>
    public BpeMerger(IEnumerable<(byte[] Bytes, long Count)> words, int minFrequency)
    {
        _ids = _tokens.Select((token, id) => (token, id)).ToDictionary(t => t.token, t => t.id, StringComparer.Ordinal);
        _minFrequency = minFrequency;
        var list = words.Where(w => w.Bytes.Length > 0 && w.Count > 0).ToList();
        (_symbols, _lengths, _counts) = (new int[list.Count][], new int[list.Count], new long[list.Count]);
        for (var w = 0; w < list.Count; w++)
        {
            var (bytes, count) = list[w];
            _symbols[w] = [.. bytes.Select(b => (int)b)];
            (_lengths[w], _counts[w]) = (bytes.Length, count);
            for (var i = 0; i + 1 < bytes.Length; i++)
            {
                var pair = Key(bytes[i], bytes[i + 1]);
                CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, pair, out _) += count;
                WordsOf(pair).Add(w);
            }
        }

        foreach (var (pair, count) in _pairCounts.Where(p => p.Value >= minFrequency))
        {
            _queue.Enqueue(pair, (count, pair));
        }
    }

    /// <summary>The vocabulary in id order: 256 byte tokens, then one per merge that made a new string.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>Merges until the vocabulary has <paramref name="maxTokens"/> tokens or no pair is frequent enough.</summary>
    public List<(string Left, string Right)> Run(int maxTokens, Action<BpeProgress>? progress, CancellationToken cancellationToken)
    {
        var merges = new List<(string Left, string Right)>();
        var maxMerges = Math.Max(0, maxTokens - _tokens.Count);
        while (_tokens.Count < maxTokens && _queue.TryDequeue(out var pair, out var queued))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = _pairCounts.GetValueOrDefault(pair);
            if (count != queued.Count)
            {
                if (count >= _minFrequency)
                {
                    _queue.Enqueue(pair, (count, pair)); // stale: its words changed since it was queued
                }

                continue;
            }

            var (left, right) = ((int)(pair >> 32), (int)(pair & uint.MaxValue));
            var merged = _tokens[left] + _tokens[right];
            if (!_ids.TryGetValue(merged, out var id))
            {
                // Another pair may already have made the same string ("a"+"bc" after "ab"+"c"): HF reuses its id too.
                (id, _ids[merged]) = (_tokens.Count, _tokens.Count);
                _tokens.Add(merged);
            }

            merges.Add((_tokens[left], _tokens[right]));
            Merge(pair, left, right, id);
            progress?.Invoke(new BpeProgress(merges.Count, maxMerges, _tokens[left], _tokens[right], count));
        }

        return merges;
    }

    /// <summary>Replaces every (left, right) in the words that hold it by <paramref name="merged"/>, updating the pair counts.</summary>
    private void Merge(long pair, int left, int right, int merged)
    {
        var touched = new HashSet<long>();
        _pairWords.Remove(pair, out var words);
        foreach (var w in words ?? [])
        {
            var (symbols, length, count) = (_symbols[w], _lengths[w], _counts[w]);
            if (!Holds(symbols, length, left, right))
            {
                continue; // the pair was merged away in this word by an earlier merge
            }

            for (var i = 0; i + 1 < length; i++)
            {
                Add(Key(symbols[i], symbols[i + 1]), -count);
            }

            var kept = 0;
            for (var i = 0; i < length; kept++)
            {
                var joins = i + 1 < length && symbols[i] == left && symbols[i + 1] == right;
                symbols[kept] = joins ? merged : symbols[i];
                i += joins ? 2 : 1;
            }

            _lengths[w] = kept;
            for (var i = 0; i + 1 < kept; i++)
            {
                var next = Key(symbols[i], symbols[i + 1]);
                Add(next, count);
                if (symbols[i] == merged || symbols[i + 1] == merged)
                {
                    WordsOf(next).Add(w);
                    touched.Add(next);
                }
            }
        }

        if (_pairCounts.ContainsKey(pair))
        {
            throw new InvalidOperationException($"BPE merge ({_tokens[left]}, {_tokens[right]}) left occurrences behind");
        }

        foreach (var next in touched)
        {
            var count = _pairCounts.GetValueOrDefault(next);
            if (count >= _minFrequency)
            {
                _queue.Enqueue(next, (count, next));
            }
        }
    }

    private static bool Holds(int[] symbols, int length, int left, int right)
    {
        for (var i = 0; i + 1 < length; i++)
        {
            if (symbols[i] == left && symbols[i + 1] == right)
            {
                return true;
            }
        }

        return false;
    }

    private void Add(long pair, long delta)
    {
        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, pair, out _);
        count += delta;
        if (count == 0)
        {
            _pairCounts.Remove(pair);
        }
    }

    private HashSet<int> WordsOf(long pair)
    {
        ref var words = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairWords, pair, out _);
        return words ??= [];
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Highest count first; among equal counts the smaller pair key (left id, then right id).</summary>
    private sealed class HeapOrder : IComparer<(long Count, long Pair)>
    {
        public static readonly HeapOrder Instance = new();

        public int Compare((long Count, long Pair) x, (long Count, long Pair) y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Pair.CompareTo(y.Pair);
    }
}
