using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>One parameter's place in a <see cref="FlatParameters"/> buffer: elements [Offset, Offset + Count) of it.</summary>
public sealed record FlatSlice(string Name, long Offset, long Count, long[] Shape);

/// <summary>
/// The trainable parameters of a model in one contiguous 1-D tensor, and their gradients in another (PyTorch FSDP's
/// FlatParameter, DeepSpeed's contiguous gradients). Each parameter is re-pointed (<c>set_</c>) at its slice of
/// <see cref="Parameter"/>, and its <c>.grad</c> is its slice of <see cref="Grad"/>. An optimizer then steps the one flat
/// <see cref="Parameter"/> (AdamW: ~10 native ops a step instead of ~10 per parameter, and the same numbers, since AdamW is
/// elementwise), zeroing is one <c>zero_()</c>, clipping one norm, and a copy between replicas or into float32 masters one
/// copy. On a GPU each op costs ~10 us of host time, so with Qwen2.5-0.5B's 290 tensors this is most of an optimizer step.
/// <para>
/// Backward adds into the slices in place: libtorch's AccumulateGrad does <c>grad += new</c> when <c>.grad</c> is defined and
/// grad mode is off, as in every first-order backward. So gradients must never be set to null (<c>Module.zero_grad()</c>
/// does that): <see cref="ZeroGrad"/> zeroes them. Anything that gives a parameter new storage (<c>Module.to</c>, a new
/// <c>.grad</c>, <c>set_</c>) silently ends the sharing: its updates would go nowhere. Loading in place (<c>copy_</c>, writing
/// through the data pointer) keeps it. <see cref="IsIntact"/> checks the data pointers.
/// </para>
/// </summary>
public sealed class FlatParameters : IDisposable
{
    private readonly FlatSlice[] _slices;
    private readonly Parameter[] _parameters;
    private readonly Dictionary<string, int> _index;

    private FlatParameters(FlatSlice[] slices, Parameter[] parameters, Parameter flat, Tensor grad)
    {
        _slices = slices;
        _parameters = parameters;
        _index = slices.Select((s, i) => (s.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        Parameter = flat;
        Grad = grad;
    }

    /// <summary>The flat data, every parameter a view of it: what the optimizer steps. Its <c>.grad</c> is <see cref="Grad"/>.</summary>
    public Parameter Parameter { get; }

    /// <summary>The flat gradient, every parameter's <c>.grad</c> a view of it.</summary>
    public Tensor Grad { get; }

    /// <summary>Where each parameter lies, in the buffer's order.</summary>
    public IReadOnlyList<FlatSlice> Slices => _slices;

    /// <summary>Elements in all.</summary>
    public long Count => Parameter.shape[0];

    /// <summary>
    /// The parameters that train (requires_grad), in the module's registration order: the default order of a flat buffer.
    /// </summary>
    public static IReadOnlyList<(string Name, Parameter Param)> Trainable(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToArray();
    }

    /// <summary>Binds <paramref name="module"/>'s trainable parameters, in registration order (<see cref="Trainable"/>).</summary>
    public static FlatParameters Create(nn.Module module) => Create(Trainable(module));

    /// <summary>
    /// Copies <paramref name="parameters"/> (and any gradients they have) into one buffer in the order given, and makes each
    /// a view of it. The caller chooses the order: parameters that must stay adjacent (q/k/v projections that a fused
    /// kernel reads as one tensor) are adjacent here when they are adjacent in the list.
    /// </summary>
    public static FlatParameters Create(IReadOnlyList<(string Name, Parameter Param)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Check(parameters);
        var (dtype, device) = (parameters[0].Param.dtype, parameters[0].Param.device);
        var slices = new FlatSlice[parameters.Count];
        long total = 0;
        for (var i = 0; i < parameters.Count; i++)
        {
            var (name, parameter) = parameters[i];
            slices[i] = new FlatSlice(name, total, parameter.numel(), parameter.shape);
            total += slices[i].Count;
        }

        // Long-lived: kept out of any dispose scope of the caller.
        var data = empty([total], dtype: dtype, device: device).DetachFromDisposeScope();
        var grad = zeros([total], dtype: dtype, device: device).DetachFromDisposeScope();
        using (no_grad())
        {
            for (var i = 0; i < parameters.Count; i++)
            {
                var parameter = parameters[i].Param;
                using var dataView = Slice(data, slices[i]);
                using var gradView = Slice(grad, slices[i]);
                dataView.copy_(parameter);
                using (var existing = parameter.grad)
                {
                    if (existing is not null)
                    {
                        gradView.copy_(existing);
                    }
                }

                parameter.set_(dataView);
                parameter.grad = gradView;
            }
        }

        var flat = new Parameter(data, requires_grad: true); // takes over data's handle
        flat.grad = grad;
        return new FlatParameters(slices, parameters.Select(p => p.Param).ToArray(), flat, grad);
    }

    private static void Check(IReadOnlyList<(string Name, Parameter Param)> parameters)
    {
        if (parameters.Count == 0)
        {
            throw new ArgumentException("a flat buffer needs at least one parameter", nameof(parameters));
        }

        var (firstName, first) = parameters[0];
        var names = new HashSet<string>(StringComparer.Ordinal);
        var addresses = new HashSet<IntPtr>();
        foreach (var (name, parameter) in parameters)
        {
            if (!names.Add(name))
            {
                throw new ArgumentException($"'{name}' appears twice in the parameters to flatten", nameof(parameters));
            }

            if (parameter.dtype != first.dtype || parameter.device_type != first.device_type || parameter.device_index != first.device_index)
            {
                throw new ArgumentException(
                    $"'{name}' is {parameter.dtype} on {parameter.device}, '{firstName}' {first.dtype} on {first.device}: one flat buffer holds one dtype on one device",
                    nameof(parameters));
            }

            if (parameter.numel() > 0 && !addresses.Add(DataPointer(parameter)))
            {
                throw new ArgumentException($"'{name}' shares its memory with another parameter (tied weights): pass it once", nameof(parameters));
            }
        }
    }

    /// <summary>The slice of <paramref name="name"/>, or null when it is not in the buffer.</summary>
    public FlatSlice? Find(string name) => _index.TryGetValue(name, out var i) ? _slices[i] : null;

    /// <summary>
    /// Named views of <paramref name="flat"/>, any 1-D tensor laid out like this buffer (the data, the gradient, float32
    /// masters, an optimizer moment). The views are new tensors: dispose them, or create them in a dispose scope.
    /// </summary>
    public IEnumerable<(string Name, Tensor View)> Split(Tensor flat)
    {
        ArgumentNullException.ThrowIfNull(flat);
        if (flat.dim() != 1 || flat.shape[0] != Count)
        {
            throw new ArgumentException($"a tensor of [{string.Join(", ", flat.shape)}] is not laid out like a flat buffer of {Count} elements", nameof(flat));
        }

        return _slices.Select(s => (s.Name, Slice(flat, s)));
    }

    /// <summary>Clears every gradient in place (one op); they stay views of <see cref="Grad"/>.</summary>
    public void ZeroGrad()
    {
        using var noGrad = no_grad();
        Grad.zero_();
    }

    /// <summary>
    /// Whether every parameter and its gradient still point into the flat buffers, where they were bound. Reads data
    /// pointers only: no device work, a few native calls per parameter.
    /// </summary>
    public bool IsIntact() => FirstBroken() is null;

    /// <summary>Throws when <see cref="IsIntact"/> is false, naming the first tensor that no longer shares the buffers.</summary>
    public void EnsureIntact()
    {
        if (FirstBroken() is { } what)
        {
            throw new InvalidOperationException(
                $"{what} no longer shares the flat parameter buffers (storage or gradient replaced: Module.to, "
                + "zero_grad(set_to_none), a new .grad?), so the optimizer would not update it");
        }
    }

    private string? FirstBroken()
    {
        var elementSize = Parameter.ElementSize;
        var data = DataPointer(Parameter);
        var grad = DataPointer(Grad);
        using (var flatGrad = Parameter.grad)
        {
            if (flatGrad is null || DataPointer(flatGrad) != grad)
            {
                return "the flat parameter's .grad";
            }
        }

        for (var i = 0; i < _slices.Length; i++)
        {
            var parameter = _parameters[i];
            var offset = _slices[i].Offset * elementSize;
            using var parameterGrad = parameter.grad;
            if (DataPointer(parameter) != data + (nint)offset || parameterGrad is null || DataPointer(parameterGrad) != grad + (nint)offset)
            {
                return $"parameter '{_slices[i].Name}'";
            }
        }

        return null;
    }

    private static Tensor Slice(Tensor flat, FlatSlice slice) => flat.narrow(0, slice.Offset, slice.Count).view(slice.Shape);

    /// <summary>The address of a tensor's first element (libtorch's data_ptr), on any device; TorchSharp has no public accessor.</summary>
    internal static IntPtr DataPointer(Tensor tensor) => NativeMethods.THSTensor_data(tensor.Handle);

    public void Dispose()
    {
        // The parameters keep the storage alive: they stay valid tensors, no longer a flat buffer.
        Grad.Dispose();
        Parameter.Dispose();
    }

    private static class NativeMethods
    {
        // Exported by TorchSharp's own native library (THSTensor.h); returns tensor->data_ptr().
        [DllImport("LibTorchSharp")]
        public static extern IntPtr THSTensor_data(IntPtr tensor);
    }
}
