using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// Qwen2 / Qwen2.5 causal language model with Hugging Face parameter names (<c>model.layers.0.self_attn.q_proj.weight</c>,
/// <c>lm_head.weight</c> when untied). With tied embeddings the output projection is <c>model.embed_tokens.weight</c>.
/// </summary>
public sealed class Qwen2ForCausalLM : nn.Module
{
    public Qwen2Model model;
    public QLinear? lm_head;

    public Qwen2ForCausalLM(Qwen2Config config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(Qwen2ForCausalLM))
    {
        config.Validated();
        device ??= CPU;
        model = new Qwen2Model(config, device, dtype);
        lm_head = config.TieWordEmbeddings ? null : new QLinear(config.HiddenSize, config.VocabSize, hasBias: false, device, dtype);
        RegisterComponents();
    }

    public Qwen2Config Config => model.Config;

    /// <summary>Activation checkpointing of the decoder layers in training forwards (<see cref="Qwen2Model.GradientCheckpointing"/>).</summary>
    public bool GradientCheckpointing
    {
        get => model.GradientCheckpointing;
        set => model.GradientCheckpointing = value;
    }

    /// <summary>Logits [B, T, vocab] in the model's dtype.</summary>
    public Tensor Forward(Tensor inputIds, Tensor positionIds, Tensor? keyPadding = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var hidden = model.Forward(inputIds, positionIds, keyPadding, cache);
        return Logits(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [B, 1, V] of one fixed-shape decode step (<see cref="Qwen2Model.ForwardFixedShape"/>).</summary>
    public Tensor ForwardFixedShape(Tensor inputIds, Tensor positionIds, Tensor mask, KvCache cache)
    {
        using var scope = NewDisposeScope();
        return Logits(model.ForwardFixedShape(inputIds, positionIds, mask, cache)).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [n, 1, vocab] of one decode step over a slot cache (<see cref="Qwen2Model.ForwardSlots"/>).</summary>
    public Tensor ForwardSlots(Tensor inputIds, Tensor positionIds, SlotKvCache cache)
    {
        using var scope = NewDisposeScope();
        return Logits(model.ForwardSlots(inputIds, positionIds, cache)).MoveToOuterDisposeScope();
    }

    /// <summary>Projects hidden states [..., hidden] to logits [..., vocab].</summary>
    public Tensor Logits(Tensor hidden) =>
        lm_head is not null ? lm_head.forward(hidden) : nn.functional.linear(hidden, model.embed_tokens.weight);

    /// <summary>The weight that maps hidden states to logits (tied or not).</summary>
    public Tensor OutputWeight => lm_head?.weight ?? model.embed_tokens.weight;

    /// <summary>Parameter count; works on the meta device.</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>
    /// Fresh weights as transformers' _init_weights: normal(0, initializer_range) for linear and embedding
    /// weights, zero biases, ones for norms. Seeded, for models trained from scratch.
    /// </summary>
    public void InitializeWeights(long seed)
    {
        using var noGrad = no_grad();
        // Drawn on the CPU with a seeded generator, then copied: the same weights on every device
        // (TorchSharp's generators are CPU generators).
        using var generator = new Generator((ulong)seed);
        var std = Config.InitializerRange;
        foreach (var (name, parameter) in named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                parameter.fill_(1.0);
            }
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                parameter.zero_();
            }
            else
            {
                using var values = empty(parameter.shape, dtype: ScalarType.Float32).normal_(0.0, std, generator);
                parameter.copy_(values);
            }
        }
    }
}
