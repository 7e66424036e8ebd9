using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

/// <summary>
/// The optimizer sharded over CPU replicas (ZeRO stage 1) against the same optimizer unsharded: each replica is given its
/// own gradient, so the sum, the clipping over all shards, every shard's AdamW step and the gathering of the new weights
/// into every replica are all needed for the two to agree.
/// </summary>
public sealed class PolicyOptimizerTests : IDisposable
{
    private const double LearningRate = 1e-3;

    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-shards").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Qwen2ForCausalLM TinyModel(ScalarType dtype)
    {
        var model = new Qwen2ForCausalLM(ModelResolver.RandomConfig("tiny"), CPU, dtype);
        model.InitializeWeights(11);
        return model;
    }

    /// <summary>Replicas of one model, their optimizer, and what the test reads back.</summary>
    private sealed class Setup : IDisposable
    {
        private readonly Qwen2ForCausalLM _master;

        public Setup(int replicas, bool shard, ScalarType dtype, bool masters = true)
        {
            _master = TinyModel(dtype);
            Replicas = PolicyReplicas.Create(_master, null, Enumerable.Repeat(CPU, replicas).ToArray(), _ => (TinyModel(dtype), null));
            Optimizer = PolicyOptimizer.Create(
                Replicas, MasterWeights.AppliesTo(dtype, masters), shard, p => optim.AdamW([p], LearningRate, 0.9, 0.99, 1e-8, 0.1));
            Optimizer.SetLearningRate(LearningRate);
        }

        public PolicyReplicas Replicas { get; }

        public PolicyOptimizer Optimizer { get; }

        /// <summary>Gives replica r the gradient drawn from seed (step, r), in the policy's dtype, then steps.</summary>
        public void Step(int step, double maxGradNorm)
        {
            for (var replica = 0; replica < Replicas.Count; replica++)
            {
                using var generator = new Generator((ulong)(100 * step + replica));
                using var grad = randn([Replicas.Flat.Count], generator: generator).mul_(1e-2);
                Replicas.FlatOf(replica).Grad.copy_(grad);
            }

            using var norm = Optimizer.Step(maxGradNorm);
            Assert.Equal(maxGradNorm > 0, norm is not null);
            Replicas.ZeroGradients();
        }

        /// <summary>Every replica's flat weights.</summary>
        public Tensor[] Weights() => Enumerable.Range(0, Replicas.Count).Select(r => Replicas.FlatOf(r).Parameter.detach().clone()).ToArray();

        /// <summary>What the optimizer stepped over the whole flat buffer, the shards' joined: the float32 masters, or the weights.</summary>
        public Tensor Stepped() => cat(Optimizer.Shards.Select(s => s.Stepped.detach()).ToArray());

        /// <summary>The AdamW moments over the whole flat buffer, the shards' joined.</summary>
        public (Tensor Average, Tensor Square) Moments()
        {
            var states = Optimizer.Shards.Select(s => ((OptimizerHelper)s.Optimizer).state_dict().State.Cast<AdamW.State>().Single()).ToArray();
            return (cat(states.Select(s => s.exp_avg).ToArray()), cat(states.Select(s => s.exp_avg_sq).ToArray()));
        }

        public void Dispose()
        {
            Optimizer.Dispose();
            Replicas.Dispose();
            _master.Dispose();
        }
    }

    private static double Largest(Tensor a, Tensor b) => (a.to(ScalarType.Float32) - b.to(ScalarType.Float32)).abs().max().item<float>();

    [Theory]
    [InlineData(ScalarType.Float32, 0.0)]
    [InlineData(ScalarType.Float32, 0.05)] // the gradients' norm is ~0.3: every step is clipped
    [InlineData(ScalarType.BFloat16, 0.05)] // through float32 masters
    public void ThreeAdamWStepsShardedOverThreeReplicasEqualTheUnshardedSteps(ScalarType dtype, double maxGradNorm)
    {
        using var whole = new Setup(3, shard: false, dtype);
        using var sharded = new Setup(3, shard: true, dtype);
        Assert.False(whole.Optimizer.IsSharded);
        Assert.Equal([0, 1, 2], sharded.Optimizer.Shards.Select(s => s.Replica));
        Assert.Equal(whole.Replicas.Flat.Count, sharded.Optimizer.Shards.Sum(s => s.Count));
        var initial = whole.Weights()[0];
        for (var step = 0; step < 3; step++)
        {
            whole.Step(step, maxGradNorm);
            sharded.Step(step, maxGradNorm);
        }

        // AdamW moves every weight by about lr a step: an element no shard stepped differs by ~3e-3. Compared in float32:
        // the masters when there are any (the two clip by norms summed in different orders, ~1 ulp apart, and a bf16
        // weight may then round the other way: one bf16 step, 1.5e-5 here), else the weights themselves.
        var (expected, actual) = (whole.Stepped(), sharded.Stepped());
        Assert.True(Largest(whole.Weights()[0], initial) > 1e-3, "three steps moved no weight");
        var difference = Largest(expected, actual);
        Assert.True(difference <= 1e-6, $"sharded and unsharded steps differ by {difference:g3}");
        var weights = sharded.Weights();
        using var rounded = actual.to(dtype);
        for (var replica = 0; replica < 3; replica++)
        {
            Assert.True(weights[replica].equal(rounded).all().item<bool>(), $"replica {replica} does not hold every shard's new weights");
        }

        var ((averageA, squareA), (averageB, squareB)) = (whole.Moments(), sharded.Moments());
        Assert.True(Largest(averageA, averageB) <= 1e-6 && Largest(squareA, squareB) <= 1e-9, "the shards' moments are not the unsharded moments");
        Assert.Equal(sharded.Optimizer.Shards[0].Master is not null, dtype == ScalarType.BFloat16);
    }

    [Fact]
    public void EachReplicaHoldsOneThirdOfTheMastersAndMoments()
    {
        using var whole = new Setup(3, shard: false, ScalarType.BFloat16);
        using var sharded = new Setup(3, shard: true, ScalarType.BFloat16);
        var count = whole.Replicas.Flat.Count;
        var first = whole.Optimizer.Memory();
        Assert.Equal((count * 2, count * 2, count * 4, count * 8), (first[0].Weights, first[0].Gradients, first[0].Masters, first[0].Moments));
        Assert.Equal(0, first[1].Masters + first[1].Moments);
        foreach (var memory in sharded.Optimizer.Memory())
        {
            Assert.InRange(memory.Masters, count * 4 / 3 - 4, count * 4 / 3 + 4);
            Assert.InRange(memory.Moments, count * 8 / 3 - 8, count * 8 / 3 + 8);
        }

        Assert.Contains("float32 masters", sharded.Optimizer.Memory()[2].ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void ACheckpointOfEitherLayoutResumesInTheOther(bool savedSharded, bool loadedSharded)
    {
        using var saved = new Setup(3, savedSharded, ScalarType.BFloat16);
        saved.Step(0, 0.05);
        saved.Step(1, 0.05);
        saved.Optimizer.Save(_folder);
        Assert.True(File.Exists(Path.Combine(_folder, MasterWeights.FileName)));

        using var loaded = new Setup(3, loadedSharded, ScalarType.BFloat16);
        for (var replica = 0; replica < 3; replica++)
        {
            loaded.Replicas.FlatOf(replica).Parameter.detach().copy_(saved.Replicas.FlatOf(replica).Parameter);
        }

        loaded.Optimizer.Load(_folder, []);
        var ((averageA, squareA), (averageB, squareB)) = (saved.Moments(), loaded.Moments());
        Assert.True(averageA.equal(averageB).all().item<bool>() && squareA.equal(squareB).all().item<bool>(), "the moments changed on the way through the checkpoint");
        saved.Step(2, 0.05);
        loaded.Step(2, 0.05);
        var difference = Largest(saved.Stepped(), loaded.Stepped());
        Assert.True(difference <= 1e-6, $"the masters after the resumed step differ by {difference:g3} (masters or step count lost?)");
    }
}
