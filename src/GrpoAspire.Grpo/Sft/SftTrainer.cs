using System.Diagnostics;
using System.Text.Json;
using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Tasks.Prompts;
using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Evaluation;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using GrpoAspire.Model.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Sft;

/// <summary>
/// Supervised warm start on solver traces: next-token cross-entropy on completion tokens only (the prompt is given,
/// never learned), AdamW with linear warm-up and cosine decay, gradient clipping, held-out evaluation with
/// <see cref="TaskEvaluator"/>, Hugging Face folders out. The batch of step s + 1 is built on the thread pool
/// while step s runs; the loss is read back from the device only when logged.
/// </summary>
public sealed class SftTrainer : IDisposable
{
    private readonly SftOptions _options;
    private readonly Qwen2ForCausalLM _model;
    private readonly FlatParameters _parameters;
    private readonly TorchSharp.Modules.OptimizerHelper _optimizer;
    private readonly LearningRateSchedule _schedule;
    private readonly SftExamples _examples;
    private readonly IReadOnlyList<Tasks.TaskRecord> _evalTasks;
    private readonly string _tokenizerFolder;
    private readonly Device _device;

    public SftTrainer(SftOptions options)
    {
        options.Validate();
        _options = options;
        _device = TorchRuntime.ParseDevice(options.Device);
        var dtype = TorchRuntime.ParseDtype(options.Dtype);
        Directory.CreateDirectory(options.OutputDirectory);
        if (options.InitModel is { } init)
        {
            _tokenizerFolder = init;
            _model = Qwen2Checkpoint.Load(init, _device, dtype);
        }
        else
        {
            // A fresh model: the byte-level tokenizer is written first, so the run folder is a model folder from the start.
            _tokenizerFolder = options.OutputDirectory;
            TokenizerJsonWriter.WriteByteLevel(Path.Combine(_tokenizerFolder, "tokenizer.json"));
            _model = new Qwen2ForCausalLM(ModelResolver.RandomConfig(options.ModelConfig), _device, dtype);
            _model.InitializeWeights(options.Seed);
        }

        _model.GradientCheckpointing = options.GradientCheckpointing;
        Tokenizer = QwenTokenizer.FromDirectory(_tokenizerFolder);
        if (Tokenizer.EosTokenId >= _model.Config.VocabSize || Tokenizer.PadTokenId >= _model.Config.VocabSize)
        {
            throw new ArgumentException($"the tokenizer's eos/pad ids exceed the model's vocabulary of {_model.Config.VocabSize}");
        }

        var heldOut = TaskSplits.HeldOut(System.Math.Max(500, options.EvalTasks));
        _evalTasks = heldOut.Take(options.EvalTasks).Select(Countdown.CountdownDefinition.ToRecord).ToArray();
        var tasks = SftExamples.GenerateTasks(options.Tasks, (ulong)options.Seed, heldOut);
        _examples = new SftExamples(tasks, Tokenizer, PromptTemplate.Get(options.PromptTemplate), options.Traces, (ulong)options.Seed, options.SeqLen);
        // One flat buffer: AdamW, zeroing and clipping are a handful of ops a step, not a handful per parameter.
        _parameters = FlatParameters.Create(_model);
        _optimizer = optim.AdamW([_parameters.Parameter], options.LearningRate, 0.9, 0.999, 1e-8, options.WeightDecay);
        _schedule = new LearningRateSchedule(options.LearningRate, LrSchedulerType.Cosine, options.Steps, options.WarmupRatio);
        File.WriteAllText(Path.Combine(options.OutputDirectory, "sft_options.json"), JsonSerializer.Serialize(options, new JsonSerializerOptions { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } }));
    }

    public Qwen2ForCausalLM Model => _model;

    public QwenTokenizer Tokenizer { get; }

    public SftExamples Examples => _examples;

    public long ParameterCount => _model.ParameterCount();

    /// <summary>Trains every step; <paramref name="onLog"/> sees each logged step (with its evaluation when one ran).</summary>
    public SftResult Train(Action<SftStepMetrics>? onLog = null, CancellationToken cancellationToken = default)
    {
        var o = _options;
        using var metrics = new SftMetricsWriter(Path.Combine(o.OutputDirectory, SftMetricsWriter.FileName));
        using var lossSum = zeros([], dtype: ScalarType.Float32, device: _device);
        using var normSum = zeros([], dtype: ScalarType.Float32, device: _device);
        var history = new List<SftStepMetrics>();
        long tokens = 0, completionTokens = 0;
        var sinceLog = 0;
        var next = Task.Run(() => _examples.Batch(0, o.BatchSize), cancellationToken);
        _model.train();
        // Training time: everything but evaluation and saving (waiting for data counts).
        var training = Stopwatch.StartNew();
        for (var step = 1; step <= o.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = next.GetAwaiter().GetResult();
            if (step < o.Steps)
            {
                var first = (long)step * o.BatchSize;
                next = Task.Run(() => _examples.Batch(first, o.BatchSize), cancellationToken);
            }

            var learningRate = _schedule.At(step - 1);
            TrainStep(batch, learningRate, lossSum, normSum);
            (tokens, completionTokens, sinceLog) = (tokens + batch.RealTokens, completionTokens + batch.CompletionTokens, sinceLog + 1);
            var evaluate = o.EvalTasks > 0 && (step == o.Steps || (o.EvalEvery > 0 && step % o.EvalEvery == 0));
            if (step % o.LogEvery != 0 && step != o.Steps && !evaluate)
            {
                continue;
            }

            // The one read-back of a logged step; it also waits for the device, so the clock is honest.
            var loss = lossSum.item<float>() / sinceLog;
            var norm = normSum.item<float>() / sinceLog;
            var seconds = training.Elapsed.TotalSeconds;
            lossSum.zero_();
            normSum.zero_();
            sinceLog = 0;
            training.Stop();
            var eval = evaluate ? Evaluate() : null;
            var logged = new SftStepMetrics(step, o.Steps, loss, learningRate, norm, tokens, completionTokens, tokens / System.Math.Max(seconds, 1e-9), seconds, eval);
            history.Add(logged);
            metrics.Write(logged);
            if (o.SaveEvery > 0 && step % o.SaveEvery == 0 && step != o.Steps)
            {
                Save(CheckpointFolders.For(o.OutputDirectory, step));
            }

            onLog?.Invoke(logged);
            training.Start();
        }

        Save(o.OutputDirectory);
        return new SftResult(o.OutputDirectory, ParameterCount, history);
    }

    /// <summary>One optimizer step on one batch; adds its loss and pre-clip grad norm to the device-side sums.</summary>
    private void TrainStep(SftHostBatch batch, double learningRate, Tensor lossSum, Tensor normSum)
    {
        using var scope = NewDisposeScope();
        foreach (var group in _optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }

        _parameters.ZeroGrad();
        var ids = tensor(batch.InputIds, [batch.Rows, batch.Length], dtype: ScalarType.Int64).to(_device); // [B, T]
        var positions = arange(batch.Length, dtype: ScalarType.Int64, device: _device).unsqueeze(0).expand(batch.Rows, -1); // [B, T]
        var hidden = _model.model.Forward(ids, positions); // [B, T, H]; right padding: plain causal attention
        var rows = hidden.view(-1, hidden.shape[^1]).index_select(0, tensor(batch.PredictingPositions).to(_device)); // [M, H]
        var targets = tensor(batch.Targets).to(_device); // [M]
        // Only the positions that predict completion tokens reach the output projection (chunked, float32 softmax).
        var loss = -TokenLogProbs.FromHidden(rows, _model.OutputWeight, targets).mean();
        loss.backward();
        EngineHandles.Release(_device);
        _parameters.EnsureIntact(); // host-side pointer checks: a parameter given new storage would stop training
        var norm = GradientClipping.ClipByGlobalNorm([_parameters.Grad], _options.MaxGradNorm);
        _optimizer.step();
        lossSum.add_(loss.detach());
        normSum.add_(norm);
    }

    /// <summary>Held-out success (greedy and sampled at T = 1) on the first EvalTasks tasks of the fixed held-out set.</summary>
    public EvaluationReport Evaluate()
    {
        _model.eval();
        try
        {
            return TaskEvaluator.Evaluate(_model, Tokenizer, _evalTasks, new EvaluationOptions
            {
                MaxNewTokens = _options.EvalMaxNewTokens, Samples = _options.EvalSamples, Template = Tasks.Prompts.PromptTemplate.Get(_options.PromptTemplate),
                Seed = _options.Seed, BatchSize = _device.type == DeviceType.CPU ? 64 : 512,
            });
        }
        finally
        {
            _model.train();
        }
    }

    /// <summary>Writes a Hugging Face folder (config.json, model.safetensors in the training dtype, tokenizer.json).</summary>
    public void Save(string folder)
    {
        Qwen2Checkpoint.Save(_model, folder, companionsFrom: _tokenizerFolder);
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _parameters.Dispose();
        _model.Dispose();
    }
}
