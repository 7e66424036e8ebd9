using System.Runtime.ExceptionServices;
using GrpoAspire.Model.Qwen2;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// The policy's copies and their flat parameter buffers (<see cref="FlatParameters"/>). With data parallel there is one
/// full copy of the policy per device (and of the frozen reference when beta != 0). Replica 0 is the master: the policy
/// that generates and is checkpointed. Every replica computes the gradients of its share of a step's micro-batches on its
/// own thread; <see cref="PolicyOptimizer"/> then sums them by device-to-device copies of the flat gradients (TorchSharp
/// has no torch.distributed / NCCL), steps, and copies the new weights into every replica. With one replica (<see cref="Single"/>) it holds the master's flat
/// buffers and every data-parallel method is a no-op or runs inline on the caller's thread.
/// </summary>
public sealed class PolicyReplicas : IDisposable
{
    private readonly FlatParameters[] _flat; // [replica], the same layout (names, order, shapes) everywhere

    private PolicyReplicas(
        IReadOnlyList<Qwen2ForCausalLM> policies, IReadOnlyList<Qwen2ForCausalLM?> references,
        Func<Qwen2ForCausalLM, IReadOnlyList<(string Name, Parameter Param)>>? order)
    {
        Policies = policies;
        References = references;
        order ??= FlatParameters.Trainable;
        var flat = new List<FlatParameters>();
        try
        {
            foreach (var policy in policies)
            {
                flat.Add(FlatParameters.Create(order(policy)));
                if (!flat[^1].Slices.Select(Describe).SequenceEqual(flat[0].Slices.Select(Describe)))
                {
                    throw new ArgumentException("data-parallel replicas must be copies of one model; their parameters differ");
                }
            }
        }
        catch
        {
            flat.ForEach(f => f.Dispose());
            throw;
        }

        _flat = [.. flat];
        static string Describe(FlatSlice slice) => $"{slice.Name} [{string.Join(", ", slice.Shape)}]";
    }

    /// <summary>Policy copies, master first.</summary>
    public IReadOnlyList<Qwen2ForCausalLM> Policies { get; }

    /// <summary>The frozen reference on each replica's device (null entries when beta = 0).</summary>
    public IReadOnlyList<Qwen2ForCausalLM?> References { get; }

    public int Count => Policies.Count;

    /// <summary>The master's flat buffers: the layout every replica shares, and what checkpoints name.</summary>
    public FlatParameters Flat => _flat[0];

    /// <summary>Replica <paramref name="replica"/>'s flat buffers (0: the master's).</summary>
    public FlatParameters FlatOf(int replica) => _flat[replica];

    /// <summary>
    /// The master alone, its trainable parameters bound into flat buffers in the order <paramref name="order"/> gives
    /// (default: registration order, <see cref="FlatParameters.Trainable"/>). Owns the buffers, not the models.
    /// </summary>
    public static PolicyReplicas Single(
        Qwen2ForCausalLM policy, Qwen2ForCausalLM? reference,
        Func<Qwen2ForCausalLM, IReadOnlyList<(string Name, Parameter Param)>>? order = null) => new([policy], [reference], order);

    /// <summary>
    /// The master plus one replica per further device of <paramref name="devices"/> (whose first entry is the master's),
    /// each loaded by <paramref name="load"/>, bound into flat buffers like the master (in the order <paramref name="order"/>
    /// gives, as in <see cref="Single"/>) and then given the master's exact weights. Owns the buffers and the copies.
    /// </summary>
    public static PolicyReplicas Create(
        Qwen2ForCausalLM master, Qwen2ForCausalLM? masterReference, IReadOnlyList<Device> devices,
        Func<Device, (Qwen2ForCausalLM Policy, Qwen2ForCausalLM? Reference)> load,
        Func<Qwen2ForCausalLM, IReadOnlyList<(string Name, Parameter Param)>>? order = null)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(load);
        var policies = new List<Qwen2ForCausalLM> { master };
        var references = new List<Qwen2ForCausalLM?> { masterReference };
        try
        {
            foreach (var device in devices.Skip(1))
            {
                var (policy, reference) = load(device);
                policies.Add(policy);
                references.Add(reference);
            }

            var replicas = new PolicyReplicas(policies, references, order);
            replicas.Broadcast();
            return replicas;
        }
        catch
        {
            for (var i = 1; i < policies.Count; i++)
            {
                policies[i].Dispose();
                references[i]?.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/>(replica) for every replica at once, one thread each (libtorch calls block, and each
    /// device needs its own caller); replica 0 runs on the calling thread. Rethrows the first failure.
    /// </summary>
    public void ForEach(Action<int> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Count == 1)
        {
            work(0);
            return;
        }

        var others = Enumerable.Range(1, Count - 1).Select(replica => Task.Factory.StartNew(
            () =>
            {
                Model.TorchRuntime.UseConfiguredThreads(); // OpenMP keeps its thread count per calling thread
                work(replica);
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Exception? failure = null;
        try
        {
            work(0);
        }
        catch (Exception e)
        {
            failure = e;
        }

        try
        {
            Task.WaitAll(others);
        }
        catch (AggregateException e) when (failure is null)
        {
            failure = e.InnerExceptions[0];
        }
        catch (AggregateException)
        {
            // the master's own failure is reported
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>Clears every replica's gradients in place (one op each): they stay views of the flat gradients.</summary>
    public void ZeroGradients()
    {
        foreach (var flat in _flat)
        {
            flat.ZeroGrad();
        }
    }

    /// <summary>
    /// Throws unless every replica's parameters and gradients still live in its flat buffers (see
    /// <see cref="FlatParameters.EnsureIntact"/>): a parameter given new storage would silently stop training.
    /// </summary>
    public void EnsureIntact()
    {
        foreach (var flat in _flat)
        {
            flat.EnsureIntact();
        }
    }

    /// <summary>Copies the master's weights into every other replica: one copy each.</summary>
    private void Broadcast()
    {
        using var noGrad = no_grad();
        for (var replica = 1; replica < Count; replica++)
        {
            _flat[replica].Parameter.copy_(Flat.Parameter);
        }
    }

    /// <summary>Disposes the flat buffers and the copies; the master and its reference belong to whoever created them.</summary>
    public void Dispose()
    {
        foreach (var flat in _flat)
        {
            flat.Dispose();
        }

        for (var i = 1; i < Count; i++)
        {
            Policies[i].Dispose();
            References[i]?.Dispose();
        }
    }
}
