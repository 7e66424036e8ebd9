using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Evaluation;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Evaluation;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using GrpoAspire.Model.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>
/// What a training run starts from. <paramref name="Rollouts"/>: where rollouts come from (null = the colocated sampler);
/// <paramref name="Reward"/>: how the trainer scores rollouts that come unscored (null = the recipe's task's rewards).
/// </summary>
public sealed record TrainerSetup(
    GrpoRecipe Recipe,
    string ModelFolder,
    QwenTokenizer Tokenizer,
    IReadOnlyList<TaskRecord> TrainingTasks,
    string RunDirectory,
    string? ResumeFrom = null,
    Func<PromptJob, string, int[], RewardBreakdown>? Reward = null,
    IRolloutSource? Rollouts = null,
    Action<string>? Log = null);

/// <summary>
/// What one step did: its metrics, the policy version it produced (the weights after <paramref name="Step"/> updates),
/// the checkpoint and held-out evaluation written after it when the recipe's schedule asked for them, and the step's
/// trace (<paramref name="Trace"/>: what a host does for the step, such as publishing the weights, belongs in it).
/// </summary>
public sealed record StepReport(int Step, StepMetrics Metrics, long PolicyVersion, string? Checkpoint, HeldOutResult? Evaluation, ActivityContext Trace = default);

/// <summary>
/// The GRPO trainer. A host drives it step by step (<see cref="StepAsync"/>) until <see cref="IsFinished"/>; each step
/// asks the rollout source for its rollouts, the next max_staleness steps' too (sampled while this one is optimized),
/// trains on them, and writes the step's outputs to the <see cref="RunFolder"/>. Resuming from a checkpoint continues
/// with the same weights, optimizer moments, data cursor and seeds.
/// </summary>
public sealed partial class GrpoTrainer : IDisposable
{
    private readonly TrainerSetup _setup;
    private readonly GrpoRecipe _recipe;
    private readonly Qwen2ForCausalLM _policy;
    private readonly Qwen2ForCausalLM? _reference;
    private readonly PolicyReplicas _replicas;
    private readonly PolicyOptimizer _optimizer;
    private readonly TaskSource _tasks;
    private readonly LearningRateSchedule _schedule;
    private readonly PromptTemplate _template;
    private readonly string _recipeHash;
    private readonly GrpoStepContext _context;
    private readonly IRolloutSource _rollouts;
    private readonly RunFolder _run;
    private readonly Queue<SubmittedStep> _submitted = new();
    private readonly Model.ComputeThread _compute = new("grpo-trainer");
    private HeldOutEvaluation? _evaluation;

    public GrpoTrainer(TrainerSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _setup = setup;
        _recipe = setup.Recipe;
        var recipe = _recipe;
        (_policy, _reference, _replicas) = LoadPolicies(setup);
        _optimizer = PolicyOptimizer.Create(
            _replicas, MasterWeights.AppliesTo(DtypeOf(recipe), recipe.Fp32MasterWeights), recipe.ShardOptimizer,
            p => optim.AdamW([p], recipe.LearningRate, recipe.AdamBeta1, recipe.AdamBeta2, recipe.AdamEpsilon, recipe.WeightDecay));
        _schedule = new LearningRateSchedule(recipe.LearningRate, recipe.LrSchedulerType, recipe.MaxSteps, recipe.WarmupRatio);
        _template = recipe.Template();
        _recipeHash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(recipe))))[..16];
        if (setup.ResumeFrom is not null)
        {
            var state = TrainerState.Load(setup.ResumeFrom);
            GlobalStep = state.GlobalStep;
            DatasetCursor = state.DatasetCursor;
            // Checkpoints from before the flat buffers (one state per parameter, registration order) are converted.
            _optimizer.Load(setup.ResumeFrom, FlatParameters.Trainable(_policy).Select(p => p.Name).ToArray());
        }

        _tasks = new TaskSource(setup.TrainingTasks, (ulong)recipe.Seed, DatasetCursor);
        var scorer = BuiltInTasks.BuiltInTasks.Catalog.Scorer(recipe.Task, recipe.Rewards);
        _context = new GrpoStepContext(
            _policy, _reference, _optimizer, recipe, setup.Reward ?? ((job, text, _) => scorer.Score(text, job.Record)),
            ids => setup.Tokenizer.Decode(ids, skipSpecialTokens: true), setup.Tokenizer.PadTokenId, _replicas);
        _rollouts = setup.Rollouts ?? new LocalRolloutSource(new Sampler(_policy, options: recipe.Decode), () => GlobalStep, _compute);
        _run = new RunFolder(setup.RunDirectory, TrainingRun.Describe(recipe), recipe.Seed, GlobalStep);
        if (_replicas.Count > 1)
        {
            Log($"optimizer {(_optimizer.IsSharded ? $"sharded over {_replicas.Count} replicas (shard_optimizer)" : "on the first replica")}:");
            foreach (var replica in _optimizer.Memory())
            {
                Log($"  {replica}");
            }
        }
    }

    /// <summary>Optimizer steps done: the version of the policy's weights.</summary>
    public int GlobalStep { get; private set; }

    /// <summary>Whether max_steps are done.</summary>
    public bool IsFinished => GlobalStep >= _recipe.MaxSteps;

    public Qwen2ForCausalLM Policy => _policy;

    public GrpoRecipe Recipe => _recipe;

    /// <summary>The policy's replicas and flat parameter buffers (tests check that the parameters stay in them).</summary>
    internal PolicyReplicas Replicas => _replicas;

    /// <summary>The starting model's folder (the frozen reference; what replicas load before version 1).</summary>
    public string ModelFolder => _setup.ModelFolder;

    /// <summary>The run folder (checkpoints, metrics, evaluations).</summary>
    public string RunDirectory => _run.Location;

    /// <summary>Tasks consumed by the steps trained so far (saved in checkpoints; tasks drawn for steps still in flight are not).</summary>
    public long DatasetCursor { get; private set; }

    /// <summary>
    /// One GRPO step: its rollouts collected (asked for by an earlier step when max_staleness allows), the next
    /// max_staleness steps asked for, the policy updated, metrics and samples written, then the checkpoint and held-out
    /// evaluation when the recipe's schedule asks for them. This is the one place that decides them.
    /// </summary>
    public async Task<StepReport> StepAsync(CancellationToken cancellationToken = default)
    {
        if (IsFinished)
        {
            throw new InvalidOperationException($"training is finished: {GlobalStep} of max_steps {_recipe.MaxSteps} done");
        }

        var step = GlobalStep + 1;
        using var stepSpan = TrainingTelemetry.Source.StartActivity("trainer.step");
        stepSpan?.SetTag("grpo.step", step);
        var watch = Stopwatch.StartNew();
        await SubmitThroughAsync(step, cancellationToken);
        IReadOnlyList<Rollout> rollouts;
        using (TrainingTelemetry.Source.StartActivity("trainer.generate"))
        {
            _policy.eval(); // the colocated sampler decodes with the policy itself
            rollouts = await _rollouts.CollectAsync(step, cancellationToken);
        }

        var waited = watch.Elapsed.TotalSeconds;
        var submitted = _submitted.Peek();
        // The steps after this one are asked for before it is optimized: the replicas sample them meanwhile, with the
        // weights they have (at most max_staleness versions old).
        await SubmitThroughAsync(step + _recipe.MaxStaleness, cancellationToken);
        var learningRate = _schedule.At(GlobalStep);
        var result = await _compute.RunAsync(() => GrpoStepRunner.Run(_context, step - 1, submitted.Prompts, rollouts, learningRate));
        _submitted.Dequeue();
        (GlobalStep, DatasetCursor) = (step, submitted.CursorAfter);
        var tokens = result.Completions.Sum(c => c.TokenIds.Length) + (submitted.Prompts.Sum(p => p.PromptIds.Count) * _recipe.NumGenerations);
        var metrics = result.Metrics with
        {
            Step = step,
            RolloutWaitSeconds = waited,
            StepSeconds = watch.Elapsed.TotalSeconds,
            TokensPerSecond = tokens / System.Math.Max(1e-9, watch.Elapsed.TotalSeconds),
        };
        _run.Record(result with { Metrics = metrics }, submitted.Prompts);
        stepSpan?.SetTag("grpo.reward", metrics.Reward);
        var checkpoint = _recipe.IsCheckpointStep(step) ? await SaveCheckpointAsync() : null;
        var evaluation = _recipe.IsEvalStep(step) ? await EvaluateAsync() : null;
        if (checkpoint is null && evaluation is null && IsFinished)
        {
            _run.PlotCurves();
        }

        return new StepReport(step, metrics, step, checkpoint, evaluation, stepSpan?.Context ?? default);
    }

    /// <summary>Evaluates the starting model on the held-out set when the recipe asks for it (eval_on_start) and nothing was trained yet.</summary>
    public async Task<HeldOutResult?> EvaluateOnStartAsync() => _recipe.EvalOnStart && GlobalStep == 0 ? await EvaluateAsync() : null;

    /// <summary>Evaluates the policy as it is now on the held-out set, appends the result to eval.jsonl and redraws the curves.</summary>
    public async Task<HeldOutResult> EvaluateAsync()
    {
        using var span = TrainingTelemetry.Source.StartActivity("trainer.evaluate");
        span?.SetTag("grpo.step", GlobalStep);
        var when = GlobalStep == 0 ? "before step 1" : $"after step {GlobalStep}";
        Log($"eval: {_recipe.EvalTasks} held-out tasks, {when} ...");
        // Built on first use: a run nobody asks to evaluate reads no held-out set.
        _evaluation ??= new HeldOutEvaluation(_recipe, _setup.Tokenizer);
        var result = await _compute.RunAsync(() => _evaluation.Run(_policy, GlobalStep));
        _run.RecordEvaluation(result);
        _run.PlotCurves();
        Log($"eval {when}: {result.Describe()}");
        return result;
    }

    /// <summary>Saves checkpoint-{GlobalStep}: model, optimizer, master weights and trainer state, and redraws the curves.</summary>
    public async Task<string> SaveCheckpointAsync()
    {
        using var span = TrainingTelemetry.Source.StartActivity("trainer.checkpoint");
        span?.SetTag("grpo.step", GlobalStep);
        var folder = await _compute.RunAsync(() => _run.WriteCheckpoint(GlobalStep, partial =>
        {
            Qwen2Checkpoint.Save(_policy, partial, companionsFrom: _setup.ModelFolder);
            _optimizer.Save(partial);
            new TrainerState
            {
                GlobalStep = GlobalStep, MaxSteps = _recipe.MaxSteps, DatasetCursor = DatasetCursor,
                Seed = _recipe.Seed, RecipeHash = _recipeHash, SavedAt = DateTimeOffset.UtcNow,
            }.Save(partial);
        }));
        _run.PlotCurves();
        return folder;
    }

    /// <summary>Runs <paramref name="read"/> on the policy on the trainer's compute thread, between steps (e.g. to capture its weights).</summary>
    public Task<T> WithPolicyAsync<T>(Func<Qwen2ForCausalLM, T> read) => _compute.RunAsync(() => read(_policy));

    /// <summary>Draws curves.png from the run's metrics and evaluations as they are now.</summary>
    public void PlotCurves() => _run.PlotCurves();

    /// <summary>Asks the rollout source for every step up to <paramref name="lastStep"/> (at most max_steps) not asked for yet.</summary>
    private async Task SubmitThroughAsync(int lastStep, CancellationToken cancellationToken)
    {
        var last = System.Math.Min(lastStep, _recipe.MaxSteps);
        for (var step = System.Math.Max(GlobalStep, _submitted.LastOrDefault()?.Step ?? 0) + 1; step <= last; step++)
        {
            var prompts = NextPrompts(_recipe.PromptsPerStep);
            var request = new RolloutRequest(step, prompts, _recipe.NumGenerations, _recipe.SamplingFor(step, [_setup.Tokenizer.EosTokenId]), System.Math.Max(0, step - 1 - _recipe.MaxStaleness));
            await _rollouts.SubmitAsync(request, cancellationToken);
            _submitted.Enqueue(new SubmittedStep(step, prompts, _tasks.Cursor));
        }
    }

    /// <summary>Prompts of the next step: the template rendered, tokenized, left-truncated to max_prompt_length (as TRL).</summary>
    private IReadOnlyList<PromptJob> NextPrompts(int count)
    {
        var tasks = _tasks.Next(count);
        return tasks.Select((task, i) =>
        {
            var text = _template.Render(task);
            var ids = _setup.Tokenizer.Encode(text);
            var kept = ids.Count > _recipe.MaxPromptLength ? ids.Skip(ids.Count - _recipe.MaxPromptLength).ToArray() : ids;
            return new PromptJob(i, task, text, kept);
        }).ToArray();
    }

    private void Log(string message) => _setup.Log?.Invoke(message);

    public void Dispose()
    {
        _compute.Dispose();
        _run.Dispose();
        _optimizer.Dispose();
        _replicas.Dispose();
        _reference?.Dispose();
        _policy.Dispose();
    }

    /// <summary>A step whose rollouts were asked for: its prompts, and the data cursor once they were drawn.</summary>
    private sealed record SubmittedStep(int Step, IReadOnlyList<PromptJob> Prompts, long CursorAfter);
}
