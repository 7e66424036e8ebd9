using System.Text.Json;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Countdown.Traces;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Sft;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

public sealed class SftTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-sft").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private QwenTokenizer ByteTokenizer()
    {
        var path = Path.Combine(_folder, "tokenizer.json");
        TokenizerJsonWriter.WriteByteLevel(path);
        return QwenTokenizer.FromFile(path);
    }

    [Fact]
    public void TrainingTasksAreSolvedDeterministicAndNeverHeldOut()
    {
        var heldOut = TaskSplits.HeldOut(500);
        var tasks = SftExamples.GenerateTasks(400, 7, heldOut);
        Assert.Equal(400, tasks.Count);
        Assert.Equal(tasks, SftExamples.GenerateTasks(400, 7, heldOut));
        Assert.NotEqual(tasks, SftExamples.GenerateTasks(400, 8, heldOut));
        var heldOutKeys = heldOut.Select(t => t.Key).ToHashSet();
        Assert.All(tasks, t =>
        {
            Assert.DoesNotContain(t.Task.Key, heldOutKeys);
            Assert.Equal(EquationVerdict.Correct, CountdownScorer.SeedEquation($"</think>\n<answer>{t.Solution}</answer>", t.Task));
        });
    }

    [Fact]
    public void TheLossSeesExactlyTheCompletionTokensAndTheEndOfTurn()
    {
        var tokenizer = ByteTokenizer();
        var tasks = SftExamples.GenerateTasks(20, 1, TaskSplits.HeldOut(500));
        var examples = new SftExamples(tasks, tokenizer, PromptTemplate.Get(PromptTemplate.Compact), new SolverTraceOptions(), 3, seqLen: 512);
        var batch = examples.Batch(first: 5, size: 4);
        Assert.Equal(batch.Rows * batch.Length, batch.InputIds.Length);
        var offset = 0;
        for (var row = 0; row < 4; row++)
        {
            var (solved, trace, prompt, completion) = examples.Example(5 + row);
            Assert.Equal(PromptTemplate.Get(PromptTemplate.Compact).Render(Countdown.CountdownDefinition.ToRecord(solved.Task)), tokenizer.Decode(prompt));
            Assert.Equal(trace.Completion, tokenizer.Decode(completion[..^1]));
            Assert.Equal(tokenizer.EosTokenId, completion[^1]);
            var targets = batch.Targets.Skip(offset).Take(completion.Length).Select(t => (int)t).ToArray();
            Assert.Equal(completion, targets);
            // Each target is the token right after its predicting position, and the first is predicted from the prompt's last token.
            var positions = batch.PredictingPositions.Skip(offset).Take(completion.Length).ToArray();
            Assert.Equal((row * batch.Length) + prompt.Length - 1, positions[0]);
            Assert.All(positions.Zip(targets), p => Assert.Equal(p.Second, batch.InputIds[p.First + 1]));
            offset += completion.Length;
        }

        Assert.Equal(offset, batch.CompletionTokens);
        Assert.Equal(batch.InputIds, examples.Batch(5, 4).InputIds);
        Assert.NotEqual(examples.Example(5).Trace.Completion, examples.Example(5 + 20).Trace.Completion); // a new trace next pass
    }

    [Fact]
    public void LongExamplesAreCutToTheSequenceLength()
    {
        var tokenizer = ByteTokenizer();
        var tasks = SftExamples.GenerateTasks(4, 1, TaskSplits.HeldOut(500));
        var examples = new SftExamples(tasks, tokenizer, PromptTemplate.Get(PromptTemplate.Compact), new SolverTraceOptions(), 3, seqLen: 80);
        var batch = examples.Batch(0, 4);
        Assert.True(batch.Length <= 80);
        Assert.All(Enumerable.Range(0, 4), i => Assert.True(examples.Example(i).PromptIds.Length + examples.Example(i).CompletionIds.Length <= 80));
    }

    [Fact]
    public void ClippingOnTheDeviceMatchesTorchSharpsClipGradNorm()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var parameters = new[] { new TorchSharp.Modules.Parameter(randn([3, 4], generator: generator)), new TorchSharp.Modules.Parameter(randn([5], generator: generator)) };
        var twins = parameters.Select(p => new TorchSharp.Modules.Parameter(p.detach().clone())).ToArray();
        using var flat = FlatParameters.Create([("a", parameters[0]), ("b", parameters[1])]);
        foreach (var set in new[] { parameters, twins })
        {
            (set[0].square().sum() * 3 + set[1].pow(3).sum()).backward();
        }

        var ours = GradientClipping.ClipByGlobalNorm([flat.Grad], 0.5).item<float>();
        var theirs = nn.utils.clip_grad_norm_(twins, 0.5);
        Assert.True(System.Math.Abs(theirs - ours) <= 1e-5 * theirs, $"norm {ours} against clip_grad_norm_'s {theirs}");
        Assert.True(theirs > 0.5, "the gradients must be large enough to be clipped");
        for (var i = 0; i < 2; i++)
        {
            Assert.True(parameters[i].grad!.allclose(twins[i].grad!, 1e-5, 1e-6));
        }
    }

    [Fact]
    public async Task AFewDozenStepsOnATinyModelCutTheCompletionLossAndWriteALoadableFolder()
    {
        var output = Path.Combine(_folder, "run");
        var options = new SftOptions
        {
            OutputDirectory = output, ModelConfig = "tiny", Tasks = 200, Steps = 40, BatchSize = 8, LearningRate = 3e-3,
            WarmupRatio = 0.1, EvalTasks = 0, LogEvery = 5, SaveEvery = 20, Seed = 1,
        };
        SftResult result;
        using (var trainer = new SftTrainer(options))
        {
            result = trainer.Train();
        }

        var first = result.History[0].Loss;
        var last = result.History[^1].Loss;
        // From ~ln(320) = 5.8 nats at random init; 40 steps learn the trace's alphabet and layout.
        Assert.True(first > 4.5, $"first logged loss {first:F3}");
        Assert.True(last < 0.6 * first, $"loss went from {first:F3} to only {last:F3}");
        Assert.Equal(40, result.History[^1].Step);
        Assert.True(result.History[^1].TokensPerSecond > 0);

        var lines = File.ReadAllLines(Path.Combine(output, SftMetricsWriter.FileName));
        Assert.Equal(8, lines.Length);
        Assert.Equal(last, JsonDocument.Parse(lines[^1]).RootElement.GetProperty("loss").GetDouble(), 5);

        foreach (var folder in new[] { output, Path.Combine(output, "checkpoint-20") })
        {
            using var model = Qwen2Checkpoint.Load(folder);
            var tokenizer = QwenTokenizer.FromDirectory(folder);
            Assert.Equal(64, model.Config.HiddenSize);
            Assert.Equal(258, tokenizer.EosTokenId);
        }

        // The final folder holds the trained weights: it predicts a trace's next tokens far better than chance.
        using var trained = Qwen2Checkpoint.Load(output);
        using var fresh = new Qwen2ForCausalLM(ModelResolver.RandomConfig("tiny"));
        fresh.InitializeWeights(1);
        Assert.True(CompletionLoss(trained) < 0.6 * CompletionLoss(fresh));

        // GRPO starts from the folder with the countdown-tiny recipe (its compact prompt), a small batch of it.
        var (recipe, _) = RecipeLoader.LoadFile(RepoFile("recipes/countdown-tiny-cpu.yaml"));
        Assert.Equal(PromptTemplate.Compact, recipe.Template().Name);
        recipe = recipe with { MaxSteps = 1, PerDeviceTrainBatchSize = 2, NumGenerations = 2, MaxCompletionLength = 16, SaveSteps = 1 };
        var tasks = new TaskGenerator(3).Take(10).Select(Countdown.CountdownDefinition.ToRecord).ToList();
        using var grpo = new GrpoTrainer(new TrainerSetup(recipe, output, QwenTokenizer.FromDirectory(output), tasks, Path.Combine(_folder, "grpo")));
        Assert.Single(await grpo.TrainAsync());
        Assert.True(File.Exists(Path.Combine(_folder, "grpo", "checkpoint-1", "model.safetensors")));
    }

    internal static string RepoFile(string relative)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, relative);
    }

    private static double CompletionLoss(Qwen2ForCausalLM model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var text = PromptTemplate.Get(PromptTemplate.Compact).Render(Countdown.CountdownDefinition.ToRecord(new Countdown.CountdownTask([14, 70, 80], 85)))
            + "\n(80+70)-14 = 136, too high\n80+(70/14) = 85, correct\n</think>\n<answer>80+(70/14)</answer>";
        var ids = tensor(text.Select(c => (long)c).ToArray()).unsqueeze(0); // ASCII: one byte token per character
        var positions = arange(ids.shape[1]).unsqueeze(0);
        var logits = model.Forward(ids, positions); // [1, T, V]
        var logProbs = logits.log_softmax(-1).narrow(1, 0, ids.shape[1] - 1).gather(2, ids.narrow(1, 1, ids.shape[1] - 1).unsqueeze(2));
        return -logProbs.narrow(1, 60, ids.shape[1] - 61).mean().item<float>();
    }
}

public sealed class WarmStartTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-warm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WithoutTheEmbeddedCopyTheWarmStartIsTrainedOnceThenReused()
    {
        var cache = Path.Combine(_folder, "cache", "countdown-tiny");
        var log = new List<string>();
        IReadOnlyList<SftOptions> Tiny(string output) => GrpoAspire.Grpo.Sft.WarmStart.Stages(output, "cpu")
            .Select(s => s with { Steps = 2, BatchSize = 2, EvalTasks = 0, LogEvery = 1, Tasks = 50 }).ToList();

        var first = GrpoAspire.Grpo.Sft.WarmStart.Ensure("cpu", log.Add, stages: Tiny, embeddedFolder: Path.Combine(_folder, "none"), cacheFolder: cache);
        Assert.Equal(cache, first);
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.json" })
        {
            Assert.True(File.Exists(Path.Combine(cache, file)), $"{file} missing from the trained warm start");
        }

        Assert.False(Directory.Exists(cache + ".partial"));
        Assert.False(Directory.Exists(Path.Combine(cache, "stage-1")));
        Assert.False(Directory.Exists(Path.Combine(cache, "stage-2")));
        Assert.Contains(log, l => l.Contains("is trained first", StringComparison.Ordinal));
        for (var stage = 1; stage <= 3; stage++)
        {
            Assert.Contains(log, l => l.StartsWith($"stage {stage}/3: warm start step 2/2", StringComparison.Ordinal));
        }

        var options = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(cache, "sft_options.json"))).RootElement;
        Assert.EndsWith("stage-2", options.GetProperty("InitModel").GetString(), StringComparison.Ordinal); // the last stage starts from the second
        Assert.Equal("Chain", options.GetProperty("Traces").GetProperty("Style").GetString());

        log.Clear();
        var second = GrpoAspire.Grpo.Sft.WarmStart.Ensure("cpu", log.Add, stages: _ => throw new InvalidOperationException("trained twice"), embeddedFolder: Path.Combine(_folder, "none"), cacheFolder: cache);
        Assert.Equal(cache, second);
        Assert.Contains(log, l => l.Contains("trained before", StringComparison.Ordinal));
    }

    [Fact]
    public void TheShippedWarmStartSettingsAreTheDocumentedCommand()
    {
        var options = GrpoAspire.Grpo.Sft.WarmStart.Options("out", "cuda");
        Assert.Equal((3_000, 64, "cuda", "countdown-tiny"), (options.Steps, options.BatchSize, options.Device, options.ModelConfig));
        var readme = File.ReadAllText(SftTests.RepoFile("models/countdown-tiny/README.md"));
        Assert.Contains("--steps 3000 --batch-size 64", readme, StringComparison.Ordinal);
        var stages = GrpoAspire.Grpo.Sft.WarmStart.Stages("out", "cuda");
        Assert.Equal(3, stages.Count);
        var second = stages[1];
        Assert.Equal(stages[0].OutputDirectory, second.InitModel);
        Assert.Equal((1_800, 64, 1e-3, 0.02, 43L, 0.6, true, Countdown.Traces.TraceStyle.Stepwise),
            (second.Steps, second.BatchSize, second.LearningRate, second.WarmupRatio, second.Seed, second.Traces.ImperfectFraction, second.Traces.GiveUpEarly, second.Traces.Style));
        Assert.Contains("--steps 1800 --batch-size 64 --lr 1e-3 --warmup-ratio 0.02 --seed 43 --imperfect-fraction 0.6 --give-up-early --trace-style stepwise", readme, StringComparison.Ordinal);
        var third = stages[2];
        Assert.Equal(second.OutputDirectory, third.InitModel);
        Assert.Equal((1_200, 64, 1e-3, 0.02, 44L, 0.9, true, Countdown.Traces.TraceStyle.Chain),
            (third.Steps, third.BatchSize, third.LearningRate, third.WarmupRatio, third.Seed, third.Traces.ImperfectFraction, third.Traces.GiveUpEarly, third.Traces.Style));
        Assert.Contains("--steps 1200 --batch-size 64 --lr 1e-3 --warmup-ratio 0.02 --seed 44 --imperfect-fraction 0.9 --give-up-early --trace-style chain", readme, StringComparison.Ordinal);
    }
}
