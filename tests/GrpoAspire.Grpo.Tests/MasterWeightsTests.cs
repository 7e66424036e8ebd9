using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

public sealed class MasterWeightsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-master").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Qwen2ForCausalLM Bf16Model()
    {
        var model = new Qwen2ForCausalLM(ModelResolver.RandomConfig("tiny"), CPU, ScalarType.BFloat16);
        model.InitializeWeights(5);
        return model;
    }

    /// <summary>
    /// Gives every parameter a seeded gradient of its own dtype: written into the gradient it has (a flat buffer's view,
    /// which must stay one), else assigned.
    /// </summary>
    private static void SetGradients(Qwen2ForCausalLM model, long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var parameter in model.parameters())
        {
            var values = randn(parameter.shape, dtype: ScalarType.Float32, generator: generator).to(parameter.dtype);
            using var grad = parameter.grad;
            if (grad is null)
            {
                parameter.grad = values;
            }
            else
            {
                grad.copy_(values);
            }
        }
    }

    [Fact]
    public void AStepIsFloat32AdamWOnTheCastGradientsRoundedIntoTheModel()
    {
        using var model = Bf16Model();
        using var flat = FlatParameters.Create(model);
        using var master = new MasterWeights(flat);
        var references = model.parameters().Select(p => new Parameter(p.to(ScalarType.Float32).detach().clone(), requires_grad: true)).ToArray();
        using var optimizer = optim.AdamW([master.Parameter], 1e-3, 0.9, 0.99, 1e-8, 0.1);
        using var referenceOptimizer = optim.AdamW(references, 1e-3, 0.9, 0.99, 1e-8, 0.1);
        for (var step = 0; step < 3; step++)
        {
            SetGradients(model, step);
            foreach (var (reference, parameter) in references.Zip(model.parameters()))
            {
                reference.grad = parameter.grad!.to(ScalarType.Float32);
            }

            master.GatherGradients();
            optimizer.step();
            master.WriteBack();
            referenceOptimizer.step();
        }

        Assert.True(flat.IsIntact());
        var masters = flat.Split(master.Parameter).Select(p => p.View).ToArray();
        var parameters = model.parameters().ToArray();
        Assert.Equal(parameters.Length, masters.Length);
        for (var i = 0; i < masters.Length; i++)
        {
            Assert.Equal(ScalarType.Float32, masters[i].dtype);
            Assert.True(masters[i].equal(references[i]).all().item<bool>(), $"master {i} differs from float32 AdamW");
            using var rounded = references[i].to(ScalarType.BFloat16);
            Assert.True(parameters[i].equal(rounded).all().item<bool>(), $"parameter {i} is not its master rounded to bf16");
        }
    }

    [Fact]
    public void UpdatesBelowBf16ResolutionAccumulateInTheMastersAndVanishWithoutThem()
    {
        // The seed's learning rate: an AdamW step moves each weight by about lr, far below a bf16 weight's resolution.
        const double lr = 5e-7;
        using var direct = Bf16Model();
        using var mixed = Bf16Model();
        using var flat = FlatParameters.Create(mixed);
        using var master = new MasterWeights(flat);
        using var directOptimizer = optim.AdamW(direct.parameters(), lr);
        using var masterOptimizer = optim.AdamW([master.Parameter], lr);
        var before = direct.parameters().Select(p => p.detach().clone()).ToArray();
        using var initialMasters = master.Parameter.detach().clone();
        SetGradients(direct, 1);
        SetGradients(mixed, 1);
        directOptimizer.step();
        master.GatherGradients();
        masterOptimizer.step();
        master.WriteBack();

        var directChanged = direct.parameters().Zip(before).Sum(pair => pair.First.ne(pair.Second).sum().item<long>()) / (double)before.Sum(t => t.numel());
        var masterChanged = master.Parameter.ne(initialMasters).sum().item<long>() / (double)initialMasters.numel();
        Assert.True(directChanged < 0.05, $"bf16 AdamW changed {directChanged:P1} of the weights at lr {lr}");
        Assert.True(masterChanged > 0.95, $"the float32 masters changed only {masterChanged:P1} of the weights");
    }

    private static GrpoRecipe Recipe(bool masters) => new()
    {
        ModelNameOrPath = "random:tiny", Bf16 = true, Fp32MasterWeights = masters, MaxSteps = 4, PerDeviceTrainBatchSize = 1,
        GradientAccumulationSteps = 2, NumGenerations = 4, MaxCompletionLength = 12, MaxPromptLength = 512, LearningRate = 1e-3,
        Beta = 0.04, SaveSteps = 2, Seed = 3,
    };

    private TrainerSetup Setup(bool masters, string run, string? resume = null) => ToyTraining.Setup(Recipe(masters), _folder, run, resume);

    [Fact]
    public async Task ABf16RunSavesItsMastersAndResumesFromThem()
    {
        using (var straight = new GrpoTrainer(Setup(true, "straight")))
        {
            await straight.TrainAsync();
        }

        using (var first = new GrpoTrainer(Setup(true, "resumed")))
        {
            await first.TrainAsync(untilStep: 2);
        }

        var checkpoint = CheckpointFolders.Latest(Path.Combine(_folder, "resumed"))!;
        Assert.True(File.Exists(Path.Combine(checkpoint, MasterWeights.FileName)));
        using (var second = new GrpoTrainer(Setup(true, "resumed", checkpoint)))
        {
            await second.TrainAsync();
        }

        // Resumed from the saved float32 masters, not from the bf16 weights: the same masters as straight through.
        var a = SafetensorsIndex.LoadStateDict(Path.Combine(_folder, "straight", "checkpoint-4", MasterWeights.FileName));
        var b = SafetensorsIndex.LoadStateDict(Path.Combine(_folder, "resumed", "checkpoint-4", MasterWeights.FileName));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, tensor) in a)
        {
            Assert.Equal(ScalarType.Float32, tensor.dtype);
            using var difference = (tensor - b[name]).abs().max();
            Assert.True(difference.item<float>() <= 1e-6, $"{name}: straight and resumed masters differ by {difference.item<float>():g3}");
        }

        // The model file holds the masters rounded to bf16.
        using var model = Qwen2Checkpoint.Load(Path.Combine(_folder, "straight", "checkpoint-4"), CPU, ScalarType.BFloat16);
        foreach (var (name, parameter) in model.named_parameters())
        {
            using var rounded = a[name].to(ScalarType.BFloat16);
            Assert.True(parameter.equal(rounded).all().item<bool>(), $"{name} is not its master rounded to bf16");
        }
    }

    [Fact]
    public async Task WithoutMastersNoMasterFileIsWritten()
    {
        using (var trainer = new GrpoTrainer(Setup(false, "direct")))
        {
            await trainer.TrainAsync(untilStep: 2);
        }

        Assert.False(File.Exists(Path.Combine(_folder, "direct", "checkpoint-2", MasterWeights.FileName)));
        Assert.True(RecipeLoader.Load("fp32_master_weights: false").Recipe.Fp32MasterWeights is false);
        Assert.True(new GrpoRecipe().Fp32MasterWeights);
    }
}
