namespace GrpoAspire.Model.Sampling;

/// <summary>Host-side bookkeeping of a batched decode: which original row each active row is, and the outputs.</summary>
internal sealed class DecodeState
{
    private readonly List<int>[] _tokens;
    private readonly List<float>[] _logProbs;
    private readonly FinishReason?[] _finish;
    private readonly HashSet<int> _eos;
    private readonly SamplingParams _parameters;
    private List<int> _active;

    private readonly Action<int, GeneratedSequence>? _onFinished;

    public DecodeState(IReadOnlyList<IReadOnlyList<int>> prompts, SamplingParams parameters, Action<int, GeneratedSequence>? onFinished = null)
    {
        _parameters = parameters;
        _onFinished = onFinished;
        _tokens = prompts.Select(_ => new List<int>()).ToArray();
        _logProbs = prompts.Select(_ => new List<float>()).ToArray();
        _finish = new FinishReason?[prompts.Count];
        _eos = parameters.EosTokenIds.ToHashSet();
        _active = Enumerable.Range(0, prompts.Count).ToList();
        PromptLength = prompts.Max(p => p.Count);
    }

    public int PromptLength { get; }

    public int ActiveCount => _active.Count;

    /// <summary>
    /// Appends one token per active row. Returns the indices (into the current batch) of the rows still
    /// running when some row just finished, or null when none did.
    /// </summary>
    public long[]? Append(long[] tokens, float[] logProbs, Func<IReadOnlyList<int>, string>? decode, int produced)
    {
        var finished = new bool[_active.Count];
        for (var i = 0; i < _active.Count; i++)
        {
            var row = _active[i];
            var token = (int)tokens[i];
            _tokens[row].Add(token);
            _logProbs[row].Add(logProbs[i]);
            var reason = Finish(_tokens[row], produced, _parameters.MaxNewTokens, _eos, _parameters.StopStrings, decode);
            if (reason is not null)
            {
                _finish[row] = reason;
                finished[i] = true;
                _onFinished?.Invoke(row, Result(row));
            }
        }

        return KeepIndices(finished);
    }

    /// <summary>
    /// <see cref="Append"/> for a batch that keeps every row (fixed-shape decoding): <paramref name="tokens"/> and
    /// <paramref name="logProbs"/> hold one entry per original row; the finished rows' entries are ignored.
    /// </summary>
    public void AppendRows(long[] tokens, float[] logProbs, Func<IReadOnlyList<int>, string>? decode, int produced)
    {
        if (tokens.Length != _tokens.Length || logProbs.Length != _tokens.Length)
        {
            throw new ArgumentException($"expected one token and log-prob per row ({_tokens.Length}), got {tokens.Length} and {logProbs.Length}");
        }

        Append(_active.Select(row => tokens[row]).ToArray(), _active.Select(row => logProbs[row]).ToArray(), decode, produced);
    }

    private long[]? KeepIndices(bool[] finished)
    {
        if (!finished.Contains(true))
        {
            return null;
        }

        var keep = new List<long>();
        var active = new List<int>();
        for (var i = 0; i < finished.Length; i++)
        {
            if (!finished[i])
            {
                keep.Add(i);
                active.Add(_active[i]);
            }
        }

        _active = active;
        return keep.ToArray();
    }

    public IReadOnlyList<GeneratedSequence> Results() => Enumerable.Range(0, _tokens.Length).Select(Result).ToArray();

    private GeneratedSequence Result(int row) =>
        new(_tokens[row].ToArray(), _logProbs[row].ToArray(), _finish[row] ?? FinishReason.Length);

    /// <summary>
    /// Why a sequence ends after its last token (<paramref name="tokens"/>[^1]), or null: end of sequence first, then a
    /// stop string in the decoded last <see cref="StopWindow"/> tokens, then the length limit.
    /// </summary>
    internal static FinishReason? Finish(
        List<int> tokens, int produced, int maxNewTokens, HashSet<int> eos, IReadOnlyList<string> stopStrings, Func<IReadOnlyList<int>, string>? decode) =>
        eos.Contains(tokens[^1]) ? FinishReason.Eos
        : HitsStopString(tokens, stopStrings, decode) ? FinishReason.Stop
        : produced >= maxNewTokens ? FinishReason.Length
        : null;

    private static bool HitsStopString(List<int> tokens, IReadOnlyList<string> stopStrings, Func<IReadOnlyList<int>, string>? decode)
    {
        if (stopStrings.Count == 0 || decode is null)
        {
            return false;
        }

        var window = tokens.Count <= StopWindow ? tokens : tokens.GetRange(tokens.Count - StopWindow, StopWindow);
        var text = decode(window);
        return stopStrings.Any(stop => text.Contains(stop, StringComparison.Ordinal));
    }

    private const int StopWindow = 32;
}
