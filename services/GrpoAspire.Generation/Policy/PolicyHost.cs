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
    private readonly Qwen2ForCausalLM _model;
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
        Decode = settings.Decode();
        _model = Qwen2Checkpoint.Load(settings.ModelPath, Device, TorchRuntime.ParseDtype(settings.Dtype));
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

    /// <summary>Swaps in a verified version between batches; a version not newer than the served one is ignored.</summary>
    public async Task<bool> ApplyAsync(VerifiedWeights weights, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            if (weights.Version <= Version)
            {
                return false;
            }

            await Task.Run(() => WeightApplier.Apply(_model, weights), cancellationToken);
            Version = weights.Version;
            _checksum = null;
            return true;
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>SHA-256 over the served weights, computed once per version.</summary>
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
