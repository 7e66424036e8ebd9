using System.Runtime.ExceptionServices;
using GrpoAspire.Model.Qwen2;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// Data parallel in one process: one full copy of the policy per device (and of the frozen reference when beta != 0).
/// Replica 0 is the master: the policy that generates, owns the optimizer and is checkpointed. Every replica computes
/// the gradients of its share of a step's micro-batches on its own thread; the gradients are then summed into the
/// master by device-to-device copies (TorchSharp has no torch.distributed / NCCL), the master alone clips and steps,
/// and its new weights are copied back into the others. With one replica every method here is a no-op or runs
/// inline on the caller's thread, so a single-device run costs nothing extra.
/// </summary>
public sealed class PolicyReplicas : IDisposable
{
    private readonly Parameter[][] _parameters; // [replica][parameter], in the same (registration) order everywhere

    private PolicyReplicas(IReadOnlyList<Qwen2ForCausalLM> policies, IReadOnlyList<Qwen2ForCausalLM?> references)
    {
        Policies = policies;
        References = references;
        _parameters = policies.Select(p => p.parameters().ToArray()).ToArray();
        var names = policies[0].named_parameters().Select(p => p.name).ToArray();
        foreach (var other in policies.Skip(1))
        {
            if (!other.named_parameters().Select(p => p.name).SequenceEqual(names))
            {
                throw new ArgumentException("data-parallel replicas must be copies of one model; their parameters differ");
            }
        }
    }

    /// <summary>Policy copies, master first.</summary>
    public IReadOnlyList<Qwen2ForCausalLM> Policies { get; }

    /// <summary>The frozen reference on each replica's device (null entries when beta = 0).</summary>
    public IReadOnlyList<Qwen2ForCausalLM?> References { get; }

    public int Count => Policies.Count;

    /// <summary>The master alone; owns nothing.</summary>
    public static PolicyReplicas Single(Qwen2ForCausalLM policy, Qwen2ForCausalLM? reference) => new([policy], [reference]);

    /// <summary>
    /// The master plus one replica per further device of <paramref name="devices"/> (whose first entry is the master's),
    /// each loaded by <paramref name="load"/> and then given the master's exact weights.
    /// </summary>
    public static PolicyReplicas Create(
        Qwen2ForCausalLM master, Qwen2ForCausalLM? masterReference, IReadOnlyList<Device> devices,
        Func<Device, (Qwen2ForCausalLM Policy, Qwen2ForCausalLM? Reference)> load)
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

            var replicas = new PolicyReplicas(policies, references);
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

    /// <summary>Clears the gradients of the replicas other than the master (the optimizer clears the master's).</summary>
    public void ZeroOtherGradients()
    {
        foreach (var policy in Policies.Skip(1))
        {
            policy.zero_grad();
        }
    }

    /// <summary>
    /// Adds every other replica's gradients into the master's, each copied to the master's device first (a
    /// device-to-device copy on GPUs). Replicas are added in order 1, 2, ..., so the result is the one-device sum up to
    /// the order of the floating-point additions.
    /// </summary>
    public void ReduceGradients()
    {
        if (Count == 1)
        {
            return;
        }

        using var noGrad = no_grad();
        var master = _parameters[0];
        for (var replica = 1; replica < Count; replica++)
        {
            for (var p = 0; p < master.Length; p++)
            {
                // One parameter at a time: the master's device holds one copied gradient tensor at most, not a model's worth.
                using var scope = NewDisposeScope();
                if (_parameters[replica][p].grad is not { } grad)
                {
                    continue; // this replica trained no micro-batch this step
                }

                var moved = grad.to(master[p].device);
                if (master[p].grad is { } sum)
                {
                    sum.add_(moved);
                }
                else
                {
                    master[p].grad = moved.clone(); // a new tensor: the replica's own gradient is cleared in place later
                }
            }
        }
    }

    /// <summary>Copies the master's weights into every other replica (after each optimizer step).</summary>
    public void Broadcast()
    {
        if (Count == 1)
        {
            return;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (var replica = 1; replica < Count; replica++)
        {
            for (var p = 0; p < _parameters[0].Length; p++)
            {
                _parameters[replica][p].copy_(_parameters[0][p]);
            }
        }
    }

    /// <summary>Disposes the copies; the master and its reference belong to whoever created them.</summary>
    public void Dispose()
    {
        for (var i = 1; i < Count; i++)
        {
            Policies[i].Dispose();
            References[i]?.Dispose();
        }
    }
}
