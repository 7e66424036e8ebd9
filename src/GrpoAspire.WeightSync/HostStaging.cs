using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync;

/// <summary>
/// Host buffers that hold all of a GPU model's weights, one flat buffer per dtype, so that capture and apply move
/// them with one queue of asynchronous copies and one synchronization instead of a blocking copy per tensor.
/// The buffers are page-locked (pinned) when CUDA is present: the GPU copies them at full bus speed, where pageable
/// memory goes through the driver's bounce buffer and each copy blocks the host. Qwen2.5-0.5B in bfloat16 keeps
/// about 1 GB of page-locked host memory per model (the trainer's and the replica's), for as long as the model lives.
/// </summary>
internal sealed class HostStaging : IDisposable
{
    private static readonly ConditionalWeakTable<nn.Module, HostStaging> Cache = [];

    private readonly Dictionary<ScalarType, Tensor> _buffers = [];
    private readonly string[] _names; // the tensors' names, in the order their slots were laid out
    private readonly (ScalarType Type, long Offset, long[] Shape)[] _slots;

    private HostStaging(IReadOnlyList<(string Name, Tensor Tensor)> named, bool pinned)
    {
        _names = named.Select(t => t.Name).ToArray();
        _slots = new (ScalarType, long, long[])[named.Count];
        var lengths = new Dictionary<ScalarType, long>();
        for (var i = 0; i < named.Count; i++)
        {
            var tensor = named[i].Tensor;
            var offset = lengths.GetValueOrDefault(tensor.dtype);
            _slots[i] = (tensor.dtype, offset, tensor.shape);
            lengths[tensor.dtype] = offset + tensor.numel();
        }

        foreach (var (type, length) in lengths)
        {
            var buffer = empty([length], dtype: type, device: CPU);
            if (pinned)
            {
                var locked = buffer.pin_memory();
                buffer.Dispose();
                buffer = locked;
            }

            _buffers[type] = buffer.DetachFromDisposeScope();
        }

        Pinned = pinned;
    }

    public bool Pinned { get; }

    /// <summary>
    /// The staging of <paramref name="model"/>, made on first use and kept with the model (rebuilt when its tensors'
    /// names, dtypes or shapes change). Its slots are reached through <see cref="Use"/>.
    /// </summary>
    public static HostStaging For(nn.Module model, IReadOnlyList<(string Name, Tensor Tensor)> named)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(model, out var staging) && staging.Fits(named))
            {
                return staging;
            }

            if (staging is not null)
            {
                lock (staging)
                {
                    staging.Dispose(); // the model's tensors changed: no sync can still be using the old layout's slots
                }
            }

            staging = new HostStaging(named, pinned: cuda.is_available());
            Cache.AddOrUpdate(model, staging);
            return staging;
        }
    }

    /// <summary>A staging for tests: never cached, never pinned, so the CPU-only build runs the same code path.</summary>
    internal static HostStaging Unpinned(IReadOnlyList<(string Name, Tensor Tensor)> named) => new(named, pinned: false);

    /// <summary>
    /// Runs <paramref name="work"/> on the slots of <paramref name="named"/> (the tensors this staging was laid out
    /// for, in order) under the staging's lock, so that no other sync reuses them meanwhile; the slot views are freed
    /// afterwards.
    /// </summary>
    public void Use(IReadOnlyList<(string Name, Tensor Tensor)> named, Action<Tensor[]> work)
    {
        if (!Fits(named))
        {
            throw new ArgumentException("the staging was laid out for other tensors than the model's", nameof(named));
        }

        lock (this)
        {
            var slots = Slots();
            try
            {
                work(slots);
            }
            finally
            {
                foreach (var slot in slots)
                {
                    slot.Dispose();
                }
            }
        }
    }

    /// <summary>Waits for the copies queued on the CUDA devices of <paramref name="tensors"/> (nothing to wait for on a CPU).</summary>
    public static void WaitForDevicesOf(IEnumerable<Tensor> tensors)
    {
        foreach (var device in tensors.Select(t => t.device).Where(d => d.type == DeviceType.CUDA).DistinctBy(d => d.index))
        {
            cuda.synchronize(device);
        }
    }

    /// <summary>Views of each tensor's slot, in the order they were laid out, shaped like the tensor; contiguous CPU tensors.</summary>
    private Tensor[] Slots()
    {
        var slots = new Tensor[_slots.Length];
        for (var i = 0; i < _slots.Length; i++)
        {
            var (type, offset, shape) = _slots[i];
            var length = shape.Aggregate(1L, (a, b) => a * b);
            using var flat = _buffers[type].narrow(0, offset, length);
            slots[i] = flat.view(shape);
        }

        return slots;
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers.Values)
        {
            buffer.Dispose();
        }

        _buffers.Clear();
    }

    /// <summary>Whether the slots were laid out for exactly these tensors (names, dtypes, shapes, order).</summary>
    private bool Fits(IReadOnlyList<(string Name, Tensor Tensor)> named)
    {
        if (_buffers.Count == 0 || named.Count != _slots.Length)
        {
            return false;
        }

        for (var i = 0; i < named.Count; i++)
        {
            var (name, tensor) = named[i];
            if (name != _names[i] || tensor.dtype != _slots[i].Type || !tensor.shape.AsSpan().SequenceEqual(_slots[i].Shape))
            {
                return false;
            }
        }

        return true;
    }
}
