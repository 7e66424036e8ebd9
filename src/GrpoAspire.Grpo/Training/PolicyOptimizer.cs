using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Model.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// One replica's part of the optimizer: elements [Offset, Offset + Count) of the flat parameter, stepped on that replica's
/// device. <see cref="Stepped"/> is the range's float32 masters when the policy trains through them, else a view of the
/// replica's own flat parameter (and its gradient a view of the flat gradient), so a step writes straight into the weights.
/// </summary>
public sealed class OptimizerShard : IDisposable
{
    private readonly Tensor? _gradView;

    internal OptimizerShard(int replica, FlatParameters flat, long offset, long count, bool masters, Func<Parameter, optim.Optimizer> create)
    {
        (Replica, Offset, Count) = (replica, offset, count);
        if (masters)
        {
            Master = new MasterWeights(flat, offset, count);
            Stepped = Master.Parameter;
        }
        else
        {
            using var noGrad = no_grad();
            using var data = flat.Parameter.detach();
            Stepped = new Parameter(data.narrow(0, offset, count), requires_grad: true);
            _gradView = flat.Grad.narrow(0, offset, count);
            Stepped.grad = _gradView;
        }

        Optimizer = create(Stepped);
    }

    /// <summary>The replica whose device holds this shard's state.</summary>
    public int Replica { get; }

    public long Offset { get; }

    public long Count { get; }

    /// <summary>The range's float32 masters (null when the policy is stepped directly).</summary>
    public MasterWeights? Master { get; }

    /// <summary>What <see cref="Optimizer"/> steps; its <c>.grad</c> is what clipping scales.</summary>
    public Parameter Stepped { get; }

    public optim.Optimizer Optimizer { get; }

    /// <summary>This shard's AdamW state (moments and step count); throws for another optimizer.</summary>
    internal AdamW.State AdamState() => AdamStateOf(Optimizer);

    /// <summary>The one AdamW state of an optimizer over one parameter; throws for another optimizer.</summary>
    internal static AdamW.State AdamStateOf(optim.Optimizer optimizer) =>
        ((OptimizerHelper)optimizer).state_dict().State is [AdamW.State state]
            ? state
            : throw new NotSupportedException("checkpoints of a sharded optimizer hold AdamW states; this optimizer is another");

    public void Dispose()
    {
        Optimizer.Dispose();
        if (Master is not null)
        {
            Master.Dispose();
        }
        else
        {
            _gradView?.Dispose();
            Stepped.Dispose();
        }
    }
}

/// <summary>
/// The optimizer of the policy's flat parameters (<see cref="FlatParameters"/>), in one of two layouts. Unsharded, one
/// shard on the master replica covers every element: the other replicas' gradients are summed into the master's, which
/// clips, steps and sends its weights to the others. Sharded (ZeRO stage 1, as DeepSpeed's optimizer-state partitioning),
/// replica r owns the r-th of N equal ranges: the gradients of that range are summed on its device (a reduce-scatter),
/// it keeps the range's float32 masters and AdamW moments and steps them, and every replica then copies each range from
/// its owner (an all-gather). So a replica holds 1/N of the masters and moments (12 of 16 bytes per parameter under
/// bf16 with masters) and the N steps run at once. Both layouts sum the gradients in replica order 0, 1, 2, ... and clip
/// by the norm over all shards, so they give the same update up to the order of the norm's additions. Checkpoints hold
/// one state over the whole flat parameter whatever the layout, so a run resumes with any number of replicas.
/// </summary>
public sealed class PolicyOptimizer : IDisposable
{
    /// <summary>Elements of a gradient range summed at once: bounds the temporaries (256 MB in float32).</summary>
    private const long ReduceChunk = 1L << 26;

    private readonly PolicyReplicas _replicas;
    private readonly Func<Parameter, optim.Optimizer> _create;
    private readonly OptimizerShard[] _shards;
    private double _learningRate;

    private PolicyOptimizer(PolicyReplicas replicas, Func<Parameter, optim.Optimizer> create, OptimizerShard[] shards)
    {
        (_replicas, _create, _shards) = (replicas, create, shards);
        _learningRate = shards[0].Optimizer.ParamGroups.First().LearningRate;
    }

    /// <summary>
    /// The optimizer of <paramref name="replicas"/>: sharded over them when <paramref name="shard"/> and there are several,
    /// through float32 masters when <paramref name="masters"/>; <paramref name="create"/> makes the optimizer of one shard's
    /// parameter (checkpoints need AdamW). Does not own the replicas.
    /// </summary>
    public static PolicyOptimizer Create(PolicyReplicas replicas, bool masters, bool shard, Func<Parameter, optim.Optimizer> create)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        ArgumentNullException.ThrowIfNull(create);
        var count = replicas.Flat.Count;
        var owners = shard ? System.Math.Min(replicas.Count, (int)System.Math.Min(count, int.MaxValue)) : 1;
        var shards = new List<OptimizerShard>();
        try
        {
            for (var r = 0; r < owners; r++)
            {
                var (start, end) = (count * r / owners, count * (r + 1) / owners);
                shards.Add(new OptimizerShard(r, replicas.FlatOf(r), start, end - start, masters, create));
            }
        }
        catch
        {
            shards.ForEach(s => s.Dispose());
            throw;
        }

        return new PolicyOptimizer(replicas, create, [.. shards]);
    }

    /// <summary>The shards, in range order; replica r owns shard r.</summary>
    public IReadOnlyList<OptimizerShard> Shards => _shards;

    /// <summary>Whether the state is split over several replicas.</summary>
    public bool IsSharded => _shards.Length > 1;

    /// <summary>Sets every shard's learning rate (the schedule's value for the coming step).</summary>
    public void SetLearningRate(double learningRate)
    {
        _learningRate = learningRate;
        foreach (var group in _shards.SelectMany(s => s.Optimizer.ParamGroups))
        {
            group.LearningRate = learningRate;
        }
    }

    /// <summary>
    /// One optimizer step from the replicas' accumulated gradients: summed per shard, cast into the masters, clipped by
    /// the global norm when <paramref name="maxGradNorm"/> &gt; 0, stepped, written back and gathered into every replica.
    /// Returns the norm before clipping (0-d float32 on the master's device), or null when nothing is clipped.
    /// </summary>
    public Tensor? Step(double maxGradNorm)
    {
        _replicas.ForEach(replica =>
        {
            if (replica < _shards.Length)
            {
                ReduceInto(_shards[replica]);
                _shards[replica].Master?.GatherGradients();
            }
        });
        var norm = maxGradNorm > 0 ? GradientClipping.ClipByGlobalNorm([.. _shards.Select(s => s.Stepped.grad!)], maxGradNorm) : null;
        _replicas.ForEach(replica =>
        {
            if (replica < _shards.Length)
            {
                _shards[replica].Optimizer.step();
                _shards[replica].Master?.WriteBack();
            }
        });
        _replicas.ForEach(Gather);
        return norm;
    }

    /// <summary>
    /// Sums every replica's gradient over <paramref name="shard"/>'s range into its owner's flat gradient, adding in
    /// replica order from replica 0's values, as the unsharded sum does (IEEE addition commutes, so the owner's own
    /// gradient may be the second operand of its add).
    /// </summary>
    private void ReduceInto(OptimizerShard shard)
    {
        if (_replicas.Count == 1)
        {
            return;
        }

        using var noGrad = no_grad();
        var owner = _replicas.FlatOf(shard.Replica).Grad;
        for (var start = shard.Offset; start < shard.Offset + shard.Count; start += ReduceChunk)
        {
            using var scope = NewDisposeScope();
            var length = System.Math.Min(ReduceChunk, shard.Offset + shard.Count - start);
            var target = owner.narrow(0, start, length);
            var sum = shard.Replica == 0 ? target : _replicas.FlatOf(0).Grad.narrow(0, start, length).to(owner.device, copy: true);
            for (var replica = 1; replica < _replicas.Count; replica++)
            {
                sum.add_(_replicas.FlatOf(replica).Grad.narrow(0, start, length).to(owner.device));
            }

            if (shard.Replica != 0)
            {
                target.copy_(sum);
            }
        }
    }

    /// <summary>Copies every range <paramref name="replica"/> does not own from its owner's new weights.</summary>
    private void Gather(int replica)
    {
        using var noGrad = no_grad();
        var weights = _replicas.FlatOf(replica).Parameter;
        foreach (var shard in _shards.Where(s => s.Replica != replica))
        {
            using var scope = NewDisposeScope();
            weights.narrow(0, shard.Offset, shard.Count).copy_(_replicas.FlatOf(shard.Replica).Parameter.narrow(0, shard.Offset, shard.Count));
        }
    }

    /// <summary>
    /// Writes the optimizer's state into a checkpoint folder: <c>optimizer.bin</c> and its layout
    /// (<see cref="OptimizerCheckpoint"/>), one AdamW state over the whole flat parameter however it is sharded, and the
    /// float32 masters (<see cref="MasterWeights.FileName"/>) when there are any. A sharded state is gathered in host memory.
    /// </summary>
    public void Save(string folder)
    {
        var layout = _replicas.Flat;
        if (IsSharded)
        {
            using var whole = WholeState();
            foreach (var shard in _shards)
            {
                var (source, target) = (shard.AdamState(), whole.State);
                using var scope = NewDisposeScope();
                target.exp_avg.narrow(0, shard.Offset, shard.Count).copy_(source.exp_avg);
                target.exp_avg_sq.narrow(0, shard.Offset, shard.Count).copy_(source.exp_avg_sq);
                target.step = source.step;
            }

            OptimizerCheckpoint.Save((OptimizerHelper)whole.Optimizer, layout, folder);
        }
        else
        {
            OptimizerCheckpoint.Save((OptimizerHelper)_shards[0].Optimizer, layout, folder);
        }

        if (_shards[0].Master is not null)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var masters = cat(_shards.Select(s => s.Master!.Parameter.detach().cpu()).ToArray());
            SafetensorsWriter.Write(Path.Combine(folder, MasterWeights.FileName), layout.Split(masters).ToDictionary(p => p.Name, p => p.View));
        }
    }

    /// <summary>
    /// Continues from a checkpoint folder's optimizer state and masters (a checkpoint without masters leaves them the
    /// policy's weights cast to float32). <paramref name="legacyOrder"/>: see <see cref="OptimizerCheckpoint.Load"/>.
    /// </summary>
    public void Load(string folder, IReadOnlyList<string> legacyOrder)
    {
        var layout = _replicas.Flat;
        if (IsSharded)
        {
            using var whole = WholeState();
            OptimizerCheckpoint.Load((OptimizerHelper)whole.Optimizer, layout, folder, legacyOrder);
            foreach (var shard in _shards)
            {
                var target = shard.AdamState();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                target.exp_avg.copy_(whole.State.exp_avg.narrow(0, shard.Offset, shard.Count));
                target.exp_avg_sq.copy_(whole.State.exp_avg_sq.narrow(0, shard.Offset, shard.Count));
                target.step = whole.State.step;
            }
        }
        else
        {
            OptimizerCheckpoint.Load((OptimizerHelper)_shards[0].Optimizer, layout, folder, legacyOrder);
        }

        LoadMasters(folder);
    }

    private void LoadMasters(string folder)
    {
        var path = Path.Combine(folder, MasterWeights.FileName);
        if (_shards[0].Master is null || !File.Exists(path))
        {
            return;
        }

        var layout = _replicas.Flat;
        var saved = SafetensorsIndex.LoadStateDict(path, dtype: ScalarType.Float32);
        try
        {
            using var noGrad = no_grad();
            foreach (var slice in layout.Slices)
            {
                var source = saved.GetValueOrDefault(slice.Name) ?? throw new InvalidDataException($"{path} has no tensor '{slice.Name}'");
                if (!source.shape.SequenceEqual(slice.Shape))
                {
                    throw new InvalidDataException(
                        $"{MasterWeights.FileName}: '{slice.Name}' is [{string.Join(", ", source.shape)}], the model's is [{string.Join(", ", slice.Shape)}]");
                }

                using var flat = source.view(-1);
                foreach (var shard in _shards)
                {
                    var (start, end) = (System.Math.Max(slice.Offset, shard.Offset), System.Math.Min(slice.Offset + slice.Count, shard.Offset + shard.Count));
                    if (start < end)
                    {
                        using var scope = NewDisposeScope();
                        shard.Master!.Parameter.narrow(0, start - shard.Offset, end - start).copy_(flat.narrow(0, start - slice.Offset, end - start));
                    }
                }
            }
        }
        finally
        {
            foreach (var tensor in saved.Values)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>An optimizer like a shard's over a host parameter as long as the whole flat buffer, for a checkpoint of a sharded state.</summary>
    private WholeOptimizer WholeState()
    {
        var parameter = new Parameter(zeros([_replicas.Flat.Count], dtype: _shards[0].Stepped.dtype), requires_grad: true);
        var optimizer = _create(parameter);
        optimizer.ParamGroups.First().LearningRate = _learningRate;
        return new WholeOptimizer(parameter, optimizer);
    }

    private sealed record WholeOptimizer(Parameter Parameter, optim.Optimizer Optimizer) : IDisposable
    {
        public AdamW.State State => OptimizerShard.AdamStateOf(Optimizer);

        public void Dispose()
        {
            Optimizer.Dispose();
            Parameter.Dispose();
        }
    }

    /// <summary>
    /// What each replica holds for training, in bytes: its weights and gradients (full, the policy's dtype) and its
    /// share of the masters and optimizer moments. Activations and the allocator's reserve come on top.
    /// </summary>
    public IReadOnlyList<ReplicaMemory> Memory()
    {
        var flat = _replicas.Flat;
        var element = flat.Parameter.ElementSize;
        return Enumerable.Range(0, _replicas.Count).Select(replica =>
        {
            var owned = _shards.Where(s => s.Replica == replica).ToArray();
            var masters = owned.Sum(s => s.Master is null ? 0 : s.Count * 4);
            var moments = owned.Sum(s => 2 * s.Count * s.Stepped.ElementSize);
            return new ReplicaMemory(replica, flat.Count * element, flat.Count * element, masters, moments);
        }).ToArray();
    }

    /// <summary>Disposes the shards (masters, optimizers); the replicas belong to whoever created them.</summary>
    public void Dispose()
    {
        foreach (var shard in _shards)
        {
            shard.Dispose();
        }
    }
}

/// <summary>Bytes a replica holds for training besides activations (see <see cref="PolicyOptimizer.Memory"/>).</summary>
public sealed record ReplicaMemory(int Replica, long Weights, long Gradients, long Masters, long Moments)
{
    public long Total => Weights + Gradients + Masters + Moments;

    public override string ToString() =>
        FormattableString.Invariant(
            $"replica {Replica}: weights {Gib(Weights)}, gradients {Gib(Gradients)}, float32 masters {Gib(Masters)}, moments {Gib(Moments)}, {Gib(Total)} in all before activations");

    private static string Gib(long bytes) => bytes >= 1L << 30
        ? FormattableString.Invariant($"{bytes / (double)(1L << 30):0.00} GiB")
        : FormattableString.Invariant($"{bytes / (double)(1L << 20):0.0} MiB");
}
