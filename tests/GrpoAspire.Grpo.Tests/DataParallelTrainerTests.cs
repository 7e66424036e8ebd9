using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

/// <summary>The whole trainer with data_parallel_devices: cpu x 3 against one device, and the device list's errors.</summary>
public sealed class DataParallelTrainerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-dp").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // 4 micro-batches of 1 prompt x 4 a step (not divisible by 3), beta != 0 (a reference per replica), AdamW with decay.
    private static GrpoRecipe Recipe => new()
    {
        ModelNameOrPath = "random:tiny", MaxSteps = 3, PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = 4,
        NumGenerations = 4, MaxCompletionLength = 12, MaxPromptLength = 512, LearningRate = 1e-3, Beta = 0.04,
        WeightDecay = 0.01, SaveSteps = 3, Seed = 3, LrSchedulerType = LrSchedulerType.Cosine, WarmupRatio = 0.25,
    };

    private async Task<string> TrainAsync(string run, IReadOnlyList<string> devices)
    {
        var recipe = Recipe with { DataParallelDevices = devices };
        using var trainer = new GrpoTrainer(ToyTraining.Setup(recipe, _folder, run));
        await trainer.TrainAsync();
        return CheckpointFolders.For(Path.Combine(_folder, run), 3);
    }

    /// <summary>Weights and AdamW moments of a checkpoint, by name ("weight:NAME", "exp_avg:NAME", "exp_avg_sq:NAME").</summary>
    private static Dictionary<string, Tensor> State(string checkpoint)
    {
        var result = new Dictionary<string, Tensor>();
        using var model = Qwen2Checkpoint.Load(checkpoint);
        foreach (var (name, parameter) in model.named_parameters())
        {
            result[$"weight:{name}"] = parameter.detach().clone();
        }

        using var flat = FlatParameters.Create(model);
        using var optimizer = optim.AdamW([flat.Parameter]);
        OptimizerCheckpoint.Load(optimizer, flat, checkpoint, []);
        var state = Assert.IsType<TorchSharp.Modules.AdamW.State>(Assert.Single(optimizer.state_dict().State));
        foreach (var ((name, average), (_, square)) in flat.Split(state.exp_avg).Zip(flat.Split(state.exp_avg_sq)))
        {
            result[$"exp_avg:{name}"] = average.clone();
            result[$"exp_avg_sq:{name}"] = square.clone();
        }

        return result;
    }

    [Fact]
    public async Task ThreeStepsOnThreeCpuReplicasEqualThreeStepsOnOne()
    {
        var one = State(await TrainAsync("one", []));
        var three = State(await TrainAsync("three", ["cpu", "cpu", "cpu"]));
        Assert.Equal(one.Keys.Order(), three.Keys.Order());
        var (largest, where) = one.Where(p => p.Key.StartsWith("weight:", StringComparison.Ordinal))
            .Select(p => ((double)(p.Value - three[p.Key]).abs().max().item<float>(), p.Key)).MaxBy(x => x.Item1);
        // Moments relative to their tensor's scale (exp_avg_sq is ~g^2, far below any absolute bound).
        var (relative, moment) = one.Where(p => !p.Key.StartsWith("weight:", StringComparison.Ordinal))
            .Select(p => ((p.Value - three[p.Key]).abs().max().item<float>() / (double)p.Value.abs().max().item<float>(), p.Key)).MaxBy(x => x.Item1);
        // Measured: weights 6e-8. AdamW's first steps divide the gradient by its own size (g / (|g| + 1e-8)), so
        // a gradient element that cancels to ~1e-12 carries its summation-order noise up to ~lr x 1e-4 = 1e-7; the bound
        // is 10x that, and far below the ~1e-3 a step moves a weight (a lost micro-batch or moment shows as ~1e-4 or more).
        Assert.True(largest <= 1e-6, $"3 replicas and 1 differ by {largest:g3} in {where}");
        Assert.True(relative <= 1e-5, $"3 replicas' AdamW moments differ from 1's by {relative:g3} of their scale in {moment} (measured: 7e-7)");
        using var initial = Qwen2Checkpoint.Load(Path.Combine(_folder, "initial-model"));
        var moved = initial.named_parameters().Max(p => (one[$"weight:{p.name}"] - p.parameter).abs().max().item<float>());
        Assert.True(moved > 1e-4, $"3 steps moved no weight by more than {moved:g3}");
    }

    [Theory]
    [InlineData("data_parallel_devices: cuda:0,cuda:0", "cuda:0 appears 2 times")]
    [InlineData("data_parallel_devices: [cuda, cuda:0]", "cuda:0 appears 2 times")]
    [InlineData("data_parallel_devices: gpu0,gpu1", "unknown device 'gpu0'")]
    [InlineData("data_parallel_devices: cpu,cuda:1", "mixes cpu and cuda")]
    [InlineData("data_parallel_devices: []", "at least one device")]
    [InlineData("device: cuda:1\ndata_parallel_devices: cuda:0,cuda:1", "device cuda:1 is not the first of data_parallel_devices")]
    public void BadDeviceListsFailWithTheReason(string yaml, string expected)
    {
        var error = Assert.Throws<RecipeException>(() => RecipeLoader.Load(yaml));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("data_parallel_devices", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheFirstDataParallelDeviceIsTheMastersDevice()
    {
        var recipe = RecipeLoader.Load("data_parallel_devices: CPU, cpu ,cpu").Recipe;
        Assert.Equal(["cpu", "cpu", "cpu"], recipe.DataParallelDevices);
        Assert.Equal("cpu", recipe.Device);
        Assert.Equal(3, TrainingDevices.Resolve(recipe).Count);
        Assert.Single(TrainingDevices.Resolve(new GrpoRecipe()));

        var fromFlag = TrainingRun.Apply(RecipeLoader.Load("seed: 42"), new TrainingRunOptions { DataParallelDevices = "cuda:2,cuda:0" }).Recipe;
        Assert.Equal(("cuda:2", 2), (fromFlag.Device, fromFlag.DataParallelDevices.Count));
        var mismatch = new TrainingRunOptions { DataParallelDevices = "cpu,cpu", Device = "cuda:0" };
        Assert.Contains("not the first", Assert.Throws<RecipeException>(() => TrainingRun.Apply(RecipeLoader.Load("seed: 42"), mismatch)).Message, StringComparison.Ordinal);
        var built = new GrpoRecipe { DataParallelDevices = ["cpu", "cpu"], Device = "cuda:0" };
        Assert.Contains("not the first", Assert.Throws<ArgumentException>(() => TrainingDevices.Resolve(built)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GpusThatThisLibtorchCannotReachFailWhenTheTrainerStarts()
    {
        // CPU-only libtorch: CUDA is missing; with CUDA, index 99 is out of range. Either way, before any model loads.
        var recipe = new GrpoRecipe { DataParallelDevices = ["cuda:0", "cuda:99"], Device = "cuda:0" };
        var error = Assert.Throws<ArgumentException>(() => TrainingDevices.Resolve(recipe));
        Assert.Contains(cuda.is_available() ? "valid CUDA indices" : "CUDA is not available", error.Message, StringComparison.Ordinal);
    }
}
