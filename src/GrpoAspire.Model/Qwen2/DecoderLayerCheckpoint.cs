using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// Activation (gradient) checkpointing of one <see cref="Qwen2DecoderLayer"/>, as a custom autograd function: the
/// forward runs the layer without building a graph, so none of its activations (attention, MLP intermediates) is kept;
/// only its input (and the rotary tables and mask, which every layer shares) is saved. The backward runs the layer
/// again, with a graph, on that input, and backpropagates the incoming gradient through it: parameter gradients
/// accumulate in their <c>.grad</c> as in a plain backward, and the input's gradient goes on to the layer below. The
/// price is one more forward per layer in the backward pass (about a third more compute for the step).
/// </summary>
public sealed class DecoderLayerCheckpoint : SingleTensorFunction<DecoderLayerCheckpoint>
{
    private const string LayerKey = "layer";

    public override string Name => nameof(DecoderLayerCheckpoint);

    /// <summary>The layer's output for <paramref name="hidden"/> [B, T, hidden], differentiable, without its activations.</summary>
    public static Tensor Run(Qwen2DecoderLayer layer, Tensor hidden, Tensor cos, Tensor sin, Tensor? mask)
    {
        ArgumentNullException.ThrowIfNull(layer);
        // Arguments in the order forward reads them; a null mask is simply not a tensor input.
        return apply(hidden, cos, sin, mask!, layer);
    }

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var (hidden, cos, sin, mask, layer) = Unpack(vars);
        ctx.save_for_backward([hidden, cos, sin, mask!]);
        ctx.save_data(LayerKey, layer);
        // Autograd off, said here rather than assumed of apply(): the layer's intermediates are freed as soon as it
        // returns, and only the saved input stays for the backward's recomputation.
        using var noGrad = no_grad();
        return layer.Forward(hidden, cos, sin, mask, cache: null);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        // The scope first: the unpacked saved inputs are new handles, and on a GPU this runs on the autograd engine's
        // thread, where nothing else would free them before the garbage collector does (see ChunkedLogProbFunction).
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var layer = (Qwen2DecoderLayer)ctx.get_data(LayerKey);
        using var grad = enable_grad();
        // A fresh leaf on the saved input: the recomputed graph ends here, and its gradient is what the layer below needs.
        var input = saved[0].detach().requires_grad_(true);
        var output = layer.Forward(input, saved[1], saved[2], saved[3], cache: null);
        output.backward([grad_output]);
        var inputGrad = input.grad ?? throw new InvalidOperationException("the recomputed layer produced no input gradient");
        // One gradient per forward argument: the hidden state's, none for the tables, the mask and the layer.
        return [inputGrad.MoveToOuterDisposeScope(), null!, null!, null!, null!];
    }

    private static (Tensor Hidden, Tensor Cos, Tensor Sin, Tensor? Mask, Qwen2DecoderLayer Layer) Unpack(object[] vars) =>
        vars is [Tensor hidden, Tensor cos, Tensor sin, var mask, Qwen2DecoderLayer layer]
            ? (hidden, cos, sin, mask as Tensor, layer)
            : throw new ArgumentException("expected (hidden, cos, sin, mask or null, layer)", nameof(vars));
}
