using GrpoAspire.Generation.Options;
using GrpoAspire.Model;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using GrpoAspire.Model.Tokenization;
using GrpoAspire.WeightSync;
using Microsoft.Extensions.Options;

namespace GrpoAspire.Generation.Policy;

/// <summary>
/// The policy this replica serves: model, tokenizer and weights version. Sampling batches and weight swaps take
/// turns on one lock, so a new version goes live between batches, never during one.
/// </summary>
public sealed class PolicyHost : IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly Lock _served = new();
    private readonly Qwen2ForCausalLM _model;
    private readonly TorchSharp.torch.ScalarType _dtype;
    private string? _checksum;

    public PolicyHost(IOptions<GenerationOptions> options, ILogger<PolicyHost> logger)
    {
        var settings = options.Value;
        if (!File.Exists(Path.Combine(settings.ModelPath, "config.json")))
        {
            throw new DirectoryNotFoundException(
                $"{GenerationOptions.SectionName}:ModelPath '{settings.ModelPath}' is not a Hugging Face model folder (no config.json)");
        }

        Device = TorchRuntime.ParseDevice(settings.Device);
        _dtype = TorchRuntime.ParseDtype(settings.Dtype);
        Decode = settings.Decode();
        _model = Qwen2Checkpoint.Load(settings.ModelPath, Device, _dtype);
        _model.eval();
        Tokenizer = QwenTokenizer.FromDirectory(settings.ModelPath);
        ModelPath = settings.ModelPath;
        logger.LogInformation(
            "serving {Model} on {Device} ({Parameters:N0} parameters), weights version 0; decode loop {Loop}, attention {Attention}",
            settings.ModelPath, Device, _model.ParameterCount(), Decode.Loop, Decode.Attention);
    }

    public TorchSharp.torch.Device Device { get; }

    /// <summary>How the samplers decode this policy (configuration, then the environment's overrides).</summary>
    public DecodeOptions Decode { get; }

    public QwenTokenizer Tokenizer { get; }

    public string ModelPath { get; }

    /// <summary>The weights version served: 0 for the starting model, then the trainer's versions.</summary>
    public long Version { get; private set; }

    /// <summary>
    /// The trainer incarnation whose <see cref="Version"/> is served ("" for the starting model before any trainer
    /// announced): versions are comparable only within one incarnation.
    /// </summary>
    public string Incarnation { get; private set; } = string.Empty;

    /// <summary>True while the weights are the starting model's, as loaded (no version was swapped in).</summary>
    public bool ServesStartingModel { get; private set; } = true;

    /// <summary>The served incarnation and version, read together.</summary>
    public (string Incarnation, long Version) Served
    {
        get
        {
            lock (_served)
            {
                return (Incarnation, Version);
            }
        }
    }

    /// <summary>The model's context: prompt plus completion may not exceed it (<c>max_position_embeddings</c> of config.json).</summary>
    public int ContextLength => _model.Config.MaxPositionEmbeddings;

    /// <summary>
    /// Runs sampling work with the live model, alone. The work gets <paramref name="cancellationToken"/> and must check it
    /// between decode steps: the turn is held until the work returns, so work that ignores a cancelled caller keeps the
    /// rollouts and weight swaps waiting.
    /// </summary>
    public async Task<T> UseAsync<T>(Func<Qwen2ForCausalLM, CancellationToken, T> work, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(() => work(_model, cancellationToken), cancellationToken);
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>
    /// Swaps in a verified version of <paramref name="incarnation"/> between batches. A version not newer than the
    /// served one of the same incarnation is ignored; any version of another incarnation is taken (a resumed trainer
    /// rolls the replicas back to its checkpoint's weights).
    /// </summary>
    public async Task<bool> ApplyAsync(VerifiedWeights weights, string incarnation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(incarnation);
        await _turn.WaitAsync(cancellationToken);
        try
        {
            if (incarnation == Incarnation && weights.Version <= Version)
            {
                return false;
            }

            await Task.Run(() => WeightApplier.Apply(_model, weights), cancellationToken);
            lock (_served)
            {
                (Incarnation, Version, ServesStartingModel) = (incarnation, weights.Version, false);
            }

            _checksum = null;
            return true;
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>
    /// Serves version 0 of <paramref name="incarnation"/>: the starting model, which this replica has on disk, so nothing
    /// is pulled; when other weights were swapped in since (a previous trainer's), they are replaced by the model folder's.
    /// </summary>
    public async Task TakeStartingModelAsync(string incarnation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(incarnation);
        await _turn.WaitAsync(cancellationToken);
        try
        {
            if (!ServesStartingModel)
            {
                await Task.Run(ReloadStartingModel, cancellationToken);
                _checksum = null;
            }

            lock (_served)
            {
                (Incarnation, Version, ServesStartingModel) = (incarnation, 0, true);
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    private void ReloadStartingModel()
    {
        using var starting = Qwen2Checkpoint.Load(ModelPath, Device, _dtype);
        using var noGrad = TorchSharp.torch.no_grad();
        var live = _model.state_dict();
        foreach (var (name, tensor) in starting.state_dict())
        {
            live[name].copy_(tensor);
        }
    }

    /// <summary>The digest (XXH128) over the served weights, computed once per version.</summary>
    public async Task<string> ChecksumAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            return _checksum ??= await Task.Run(() => WeightChecksum.Of(_model), cancellationToken);
        }
        finally
        {
            _turn.Release();
        }
    }

    public void Dispose()
    {
        _model.Dispose();
        _turn.Dispose();
    }
}
