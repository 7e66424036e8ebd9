using System.Security.Cryptography;
using System.Text;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Prompts;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Logging;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using GrpoAspire.Model.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>What a training run starts from.</summary>
public sealed record TrainerSetup(
    GrpoRecipe Recipe,
    string ModelFolder,
    QwenTokenizer Tokenizer,
    IReadOnlyList<CountdownTask> TrainingTasks,
    string RunDirectory,
    string? ResumeFrom = null,
    Func<PromptJob, string, int[], RewardBreakdown>? Reward = null,
    Func<Qwen2ForCausalLM, IRolloutSource>? Rollouts = null);

/// <summary>
/// The single-process GRPO loop (like TRL's colocated mode): prompts -> rollouts -> step -> logs -> checkpoints.
/// Resuming from a checkpoint continues with the same weights, optimizer moments, data cursor and seeds.
/// </summary>
public sealed class GrpoTrainer : IDisposable
{
    private readonly TrainerSetup _setup;
    private readonly Qwen2ForCausalLM _policy;
    private readonly Qwen2ForCausalLM? _reference;
    private readonly PolicyReplicas _replicas;
    private readonly MasterWeights? _master;
    private readonly TorchSharp.Modules.OptimizerHelper _optimizer;
    private readonly TaskSource _tasks;
    private readonly LearningRateSchedule _schedule;
    private readonly PromptTemplate _template;
    private readonly CountdownScorer _scorer;
    private readonly string _recipeHash;

    public GrpoTrainer(TrainerSetup setup)
    {
        _setup = setup;
        var recipe = setup.Recipe;
        var devices = TrainingDevices.Resolve(recipe);
        var dtype = recipe.Bf16 || recipe.TorchDtype == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32;
        var start = setup.ResumeFrom ?? setup.ModelFolder;
        (Qwen2ForCausalLM Policy, Qwen2ForCausalLM? Reference) Load(Device device)
        {
            var policy = Qwen2Checkpoint.Load(start, device, dtype);
            policy.GradientCheckpointing = recipe.GradientCheckpointing;
            // The reference is the starting model, frozen; none is loaded when beta = 0 (TRL does the same). With data
            // parallel each device holds one, so reference log-probs are computed where their micro-batch trains.
            var reference = recipe.Beta != 0 ? Qwen2Checkpoint.Load(setup.ModelFolder, device, dtype) : null;
            foreach (var parameter in reference?.parameters() ?? [])
            {
                parameter.requires_grad = false;
            }

            return (policy, reference);
        }

        (_policy, _reference) = Load(devices[0]);
        try
        {
            // Binds every replica's trainable parameters into flat buffers (one optimizer parameter, one-op zeroing,
            // clipping and copies); with one device this is the master alone.
            _replicas = PolicyReplicas.Create(_policy, _reference, devices, Load);
        }
        catch
        {
            // A replica that cannot load (a device out of memory) leaves nothing behind: the master goes too.
            _reference?.Dispose();
            _policy.Dispose();
            throw;
        }

        _master = MasterWeights.AppliesTo(dtype, recipe.Fp32MasterWeights) ? new MasterWeights(_replicas.Flat, setup.ResumeFrom) : null;
        _optimizer = optim.AdamW([_master?.Parameter ?? _replicas.Flat.Parameter], recipe.LearningRate, recipe.AdamBeta1, recipe.AdamBeta2, recipe.AdamEpsilon, recipe.WeightDecay);
        _schedule = new LearningRateSchedule(recipe.LearningRate, recipe.LrSchedulerType, recipe.MaxSteps, recipe.WarmupRatio);
        _template = PromptTemplate.Get(recipe.PromptTemplate);
        _scorer = new CountdownScorer(recipe.Rewards);
        _recipeHash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(recipe))))[..16];
        var cursor = 0L;
        if (setup.ResumeFrom is not null)
        {
            var state = TrainerState.Load(setup.ResumeFrom);
            GlobalStep = state.GlobalStep;
            cursor = state.DatasetCursor;
            // Checkpoints from before the flat buffers (one state per parameter, registration order) are converted.
            OptimizerCheckpoint.Load(_optimizer, _replicas.Flat, setup.ResumeFrom, FlatParameters.Trainable(_policy).Select(p => p.Name).ToArray());
        }

        _tasks = new TaskSource(setup.TrainingTasks, (ulong)recipe.Seed, cursor);
    }

    public int GlobalStep { get; private set; }

    public Qwen2ForCausalLM Policy => _policy;

    /// <summary>The policy's replicas and flat parameter buffers (tests check that the parameters stay in them).</summary>
    internal PolicyReplicas Replicas => _replicas;

    /// <summary>The starting model's folder (the frozen reference; what replicas load before version 1).</summary>
    public string ModelFolder => _setup.ModelFolder;

    /// <summary>Tasks handed out so far (saved in checkpoints, reported in the run's state).</summary>
    public long DatasetCursor => _tasks.Cursor;

    /// <summary>Runs until <paramref name="untilStep"/> (default: the recipe's max_steps); returns each step's metrics.</summary>
    public IReadOnlyList<StepMetrics> Train(int? untilStep = null, Action<StepMetrics>? onStep = null, CancellationToken cancellationToken = default)
    {
        var recipe = _setup.Recipe;
        var last = System.Math.Min(untilStep ?? recipe.MaxSteps, recipe.MaxSteps);
        Directory.CreateDirectory(_setup.RunDirectory);
        using var metricsWriter = new MetricsJsonlWriter(Path.Combine(_setup.RunDirectory, MetricsJsonlWriter.FileName));
        using var samples = new CompletionSampleWriter(_setup.RunDirectory, (ulong)recipe.Seed + (ulong)GlobalStep);
        var context = new GrpoStepContext(
            _policy, _reference, _optimizer, recipe, _setup.Reward ?? ((job, text, _) => _scorer.Score(text, job.Task)),
            _setup.Rollouts?.Invoke(_policy) ?? new LocalRolloutSource(new Sampler(_policy)), ids => _setup.Tokenizer.Decode(ids, skipSpecialTokens: true),
            _setup.Tokenizer.PadTokenId, [_setup.Tokenizer.EosTokenId], _replicas, _master);
        var history = new List<StepMetrics>();
        while (GlobalStep < last)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var stepSpan = TrainingTelemetry.Source.StartActivity("trainer.step");
            stepSpan?.SetTag("grpo.step", GlobalStep + 1);
            var prompts = NextPrompts(recipe.PromptsPerStep);
            var result = GrpoStepRunner.Run(context, GlobalStep, prompts, _schedule.At(GlobalStep));
            GlobalStep++;
            var metrics = result.Metrics with { Step = GlobalStep };
            history.Add(metrics);
            metricsWriter.Write(metrics);
            samples.Write(GlobalStep, result.Completions, prompts.ToDictionary(p => p.Index));
            if (recipe.IsCheckpointStep(GlobalStep))
            {
                using var checkpointSpan = TrainingTelemetry.Source.StartActivity("trainer.checkpoint");
                SaveCheckpoint();
            }

            // After the checkpoint: whoever hears of step N (weights, status) can count on checkpoint N when one was due.
            stepSpan?.SetTag("grpo.reward", metrics.Reward);
            onStep?.Invoke(metrics);
        }

        return history;
    }

    /// <summary>Prompts of the next step: the template rendered, tokenized, left-truncated to max_prompt_length (as TRL).</summary>
    private IReadOnlyList<PromptJob> NextPrompts(int count)
    {
        var tasks = _tasks.Next(count);
        return tasks.Select((task, i) =>
        {
            var text = _template.Render(task);
            var ids = _setup.Tokenizer.Encode(text);
            var kept = ids.Count > _setup.Recipe.MaxPromptLength ? ids.Skip(ids.Count - _setup.Recipe.MaxPromptLength).ToArray() : ids;
            return new PromptJob(i, task, text, kept);
        }).ToArray();
    }

    public string SaveCheckpoint()
    {
        var folder = CheckpointFolders.For(_setup.RunDirectory, GlobalStep);
        var partial = folder + ".partial";
        if (Directory.Exists(partial))
        {
            Directory.Delete(partial, recursive: true);
        }

        Qwen2Checkpoint.Save(_policy, partial, companionsFrom: _setup.ModelFolder);
        OptimizerCheckpoint.Save(_optimizer, _replicas.Flat, partial);
        _master?.Save(partial);
        new TrainerState
        {
            GlobalStep = GlobalStep, MaxSteps = _setup.Recipe.MaxSteps, DatasetCursor = _tasks.Cursor,
            Seed = _setup.Recipe.Seed, RecipeHash = _recipeHash, SavedAt = DateTimeOffset.UtcNow,
        }.Save(partial);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        // A checkpoint appears complete or not at all.
        Directory.Move(partial, folder);
        return folder;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _master?.Dispose();
        _replicas.Dispose();
        _reference?.Dispose();
        _policy.Dispose();
    }
}
