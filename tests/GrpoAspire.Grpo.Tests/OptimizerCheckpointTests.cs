using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using TorchSharp;
using TorchSharp.Modules;
using static GrpoAspire.Grpo.Tests.FlatParametersTests;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

/// <summary>
/// optimizer.bin with flat parameters: the layout saved beside it, states saved in another order, and checkpoints from
/// before the flat buffers (one AdamW state per parameter) converted on resume.
/// </summary>
public sealed class OptimizerCheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-optimizer").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static AdamW NewAdamW(IEnumerable<Parameter> parameters) => optim.AdamW(parameters, 1e-2, 0.9, 0.99, 1e-8, 0.1);

    private static AdamW.State FlatState(AdamW optimizer) => Assert.IsType<AdamW.State>(Assert.Single(optimizer.state_dict().State));

    [Fact]
    public void APerParameterStateFromBeforeTheFlatBuffersIsConvertedIntoItsSlices()
    {
        using var legacy = TinyModel();
        using var legacyOptimizer = NewAdamW(legacy.parameters());
        for (var step = 0; step < 3; step++)
        {
            legacyOptimizer.zero_grad();
            Backward(legacy, step);
            legacyOptimizer.step();
        }

        legacyOptimizer.save_state_dict(Path.Combine(_folder, CheckpointFolders.OptimizerFileName));
        using var model = TinyModel();
        using (no_grad())
        {
            foreach (var (target, source) in model.parameters().Zip(legacy.parameters()))
            {
                target.copy_(source);
            }
        }

        using var flat = FlatParameters.Create(model);
        using var optimizer = optim.AdamW([flat.Parameter], 1e-3); // other settings: the checkpoint's are loaded
        OptimizerCheckpoint.Load(optimizer, flat, _folder, FlatParameters.Trainable(model).Select(p => p.Name).ToArray());
        var state = FlatState(optimizer);
        Assert.Equal(3, state.step);
        using var scope = NewDisposeScope();
        var legacyStates = legacyOptimizer.state_dict().State.Cast<AdamW.State>().ToArray();
        Assert.Equal(0.0, LargestDifference(flat.Split(state.exp_avg).Select(p => p.View), legacyStates.Select(s => s.exp_avg)));
        Assert.Equal(0.0, LargestDifference(flat.Split(state.exp_avg_sq).Select(p => p.View), legacyStates.Select(s => s.exp_avg_sq)));

        // One more step each, from the same weights and moments: the same weights.
        legacyOptimizer.zero_grad();
        Backward(legacy, 3);
        legacyOptimizer.step();
        flat.ZeroGrad();
        Backward(model, 3);
        optimizer.step();
        Assert.Equal(0.0, LargestDifference(model.parameters(), legacy.parameters()));
    }

    [Fact]
    public void AStateSavedInAnotherParameterOrderLandsOnTheSameParameters()
    {
        using var saved = TinyModel();
        using var savedFlat = FlatParameters.Create(saved);
        using var savedOptimizer = NewAdamW([savedFlat.Parameter]);
        for (var step = 0; step < 2; step++)
        {
            savedFlat.ZeroGrad();
            Backward(saved, step);
            savedOptimizer.step();
        }

        OptimizerCheckpoint.Save(savedOptimizer, savedFlat, _folder);
        using var model = TinyModel();
        using var flat = FlatParameters.Create(FlatParameters.Trainable(model).Reverse().ToArray());
        using var optimizer = NewAdamW([flat.Parameter]);
        OptimizerCheckpoint.Load(optimizer, flat, _folder, []);
        using var scope = NewDisposeScope();
        var expected = savedFlat.Split(FlatState(savedOptimizer).exp_avg_sq).ToDictionary(p => p.Name, p => p.View);
        var loaded = flat.Split(FlatState(optimizer).exp_avg_sq).ToArray();
        Assert.Equal(2, FlatState(optimizer).step);
        Assert.Equal(0.0, LargestDifference(loaded.Select(p => p.View), loaded.Select(p => expected[p.Name])));
        Assert.True(FlatState(optimizer).exp_avg_sq.abs().max().item<float>() > 0);
    }

    [Fact]
    public void AStateOfAnotherModelFailsWithTheReason()
    {
        using var other = TinyModel();
        using var otherOptimizer = NewAdamW(other.parameters().Take(3));
        otherOptimizer.save_state_dict(Path.Combine(_folder, CheckpointFolders.OptimizerFileName));
        using var model = TinyModel();
        using var flat = FlatParameters.Create(model);
        using var optimizer = NewAdamW([flat.Parameter]);
        var names = FlatParameters.Trainable(model).Select(p => p.Name).ToArray();
        var error = Assert.Throws<InvalidDataException>(() => OptimizerCheckpoint.Load(optimizer, flat, _folder, names));
        Assert.Contains($"3 parameter state(s); resuming needs AdamW with 1 group and {names.Length} state(s)", error.Message, StringComparison.Ordinal);
    }

    private static GrpoRecipe Recipe => new()
    {
        ModelNameOrPath = "random:tiny", MaxSteps = 4, PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = 2,
        NumGenerations = 4, MaxCompletionLength = 12, MaxPromptLength = 512, LearningRate = 1e-3, Beta = 0.04,
        WeightDecay = 0.01, SaveSteps = 2, Seed = 3, LrSchedulerType = LrSchedulerType.Cosine, WarmupRatio = 0.25,
    };

    /// <summary>Rewrites a checkpoint's optimizer state as the trainer wrote it before the flat buffers: one AdamW state per parameter.</summary>
    private static void MakeLegacy(string checkpoint)
    {
        using var model = Qwen2Checkpoint.Load(checkpoint);
        using var flat = FlatParameters.Create(model);
        using var optimizer = NewAdamW([flat.Parameter]);
        OptimizerCheckpoint.Load(optimizer, flat, checkpoint, []);
        using var scope = NewDisposeScope();
        var parameters = flat.Split(flat.Parameter).Select(p => new Parameter(p.View.detach().clone())).ToArray();
        using var legacy = NewAdamW(parameters);
        var (source, targets) = (FlatState(optimizer), legacy.state_dict().State.Cast<AdamW.State>().ToArray());
        legacy.state_dict().Options[0].LoadStateDict(optimizer.state_dict().Options[0]);
        foreach (var (target, (average, square)) in targets.Zip(flat.Split(source.exp_avg).Select(p => p.View).Zip(flat.Split(source.exp_avg_sq).Select(p => p.View))))
        {
            target.step = source.step;
            target.exp_avg.copy_(average);
            target.exp_avg_sq.copy_(square);
        }

        legacy.save_state_dict(Path.Combine(checkpoint, CheckpointFolders.OptimizerFileName));
        File.Delete(Path.Combine(checkpoint, OptimizerCheckpoint.LayoutFileName));
        File.Delete(Path.Combine(checkpoint, CheckpointManifest.FileName));
    }

    [Fact]
    public async Task ACheckpointFromBeforeTheFlatBuffersResumesToTheStraightRunsWeights()
    {
        using (var straight = new GrpoTrainer(ToyTraining.Setup(Recipe, _folder, "straight")))
        {
            await straight.TrainAsync();
        }

        using (var first = new GrpoTrainer(ToyTraining.Setup(Recipe, _folder, "resumed")))
        {
            await first.TrainAsync(untilStep: 2);
            Assert.True(first.Replicas.Flat.IsIntact(), "saving a checkpoint moved a parameter out of the flat buffers");
        }

        var checkpoint = CheckpointFolders.For(Path.Combine(_folder, "resumed"), 2);
        MakeLegacy(checkpoint);
        using (var second = new GrpoTrainer(ToyTraining.Setup(Recipe, _folder, "resumed", checkpoint)))
        {
            Assert.True(second.Replicas.Flat.IsIntact());
            await second.TrainAsync();
            Assert.True(second.Replicas.Flat.IsIntact());
        }

        using var a = Qwen2Checkpoint.Load(CheckpointFolders.For(Path.Combine(_folder, "straight"), 4));
        using var b = Qwen2Checkpoint.Load(CheckpointFolders.For(Path.Combine(_folder, "resumed"), 4));
        using var initial = Qwen2Checkpoint.Load(Path.Combine(_folder, "initial-model"));
        var difference = LargestDifference(a.parameters(), b.parameters());
        Assert.True(difference <= 1e-6, $"straight and resumed-from-legacy weights differ by {difference:g3}");
        Assert.True(LargestDifference(a.parameters(), initial.parameters()) > 1e-4, "4 steps moved nothing");
    }
}
