using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using GrpoAspire.Model;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using ModelBench;
using static TorchSharp.torch;

// model-bench [--shape small|0.5B|3B] [--device cpu|cuda] [--dtype float32|bfloat16] [--batches 1,64,256]
//             [--prompt 128] [--new 256] [--train-batch 8] [--train-seq 512] [--skip-train] [--skip-generate]
//             [--gradient-checkpointing] [--loops eager,fixed,graph] [--repeats 1] [--output FILE]
// model-bench seed-step [--shape 3B] [--device cuda] [--dtype bfloat16] [--recipe FILE] [--steps 2]
//             [--prompt 200] [--completion N] [--prompts N] [--output FILE]: the seed's GRPO step, colocated (SeedStepBench).
// model-bench optimizer-step [--shape thin-0.5B] [--device cpu] [--dtype bfloat16] [--steps 20] [--output FILE]: the
//             optimizer part of a step, per parameter against flat buffers (OptimizerStepBench).
// model-bench replica-memory [--shape 3B] [--device cuda] [--dtype bfloat16] [--recipe FILE] [--replicas 3] [--others cpu]
//             [--steps 2] [--prompt N] [--completion N] [--output FILE]: the GPU memory of one trainer replica of N at the
//             seed's shapes, generation elsewhere (ReplicaMemoryBench).
// model-bench aha-rollouts [--model models/countdown-tiny] [--steps 3] [--rows 64,128] [--output FILE]: the replica's
//             engines on the aha recipe's rollouts (AhaRolloutBench).
if (args.Length > 0 && args[0] is "seed-step" or "optimizer-step" or "replica-memory")
{
    // The step benchmarks: the seed's GRPO step colocated (SeedStepBench), the optimizer part of a step per parameter
    // against flat buffers (OptimizerStepBench), and the memory of one data-parallel trainer replica (ReplicaMemoryBench).
    var stepOptions = Args.Parse(args[1..]);
    var stepDevice = TorchRuntime.ParseDevice(stepOptions.Get("device", "cpu"));
    var stepDtype = TorchRuntime.ParseDtype(stepOptions.Get("dtype", "bfloat16"));
    var stepResults = args[0] switch
    {
        "seed-step" => SeedStepBench.Run(stepOptions, stepDevice, stepDtype),
        "optimizer-step" => OptimizerStepBench.Run(stepOptions, stepDevice, stepDtype),
        _ => ReplicaMemoryBench.Run(stepOptions, stepDevice, stepDtype),
    };
    stepResults["device"] = stepOptions.Get("device", "cpu");
    stepResults["dtype"] = stepOptions.Get("dtype", "bfloat16");
    stepResults["machine"] = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}";
    stepResults["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    Console.WriteLine(Save(stepResults, stepOptions));
    return 0;
}

if (args.Length > 0 && args[0] == "parity")
{
    // model-bench parity --model DIR --expected FILE [--device cuda]: the check-parity verb, packable for the GPU machine.
    var parityOptions = Args.Parse(args[1..]);
    using var parityModel = Qwen2Checkpoint.Load(parityOptions.Get("model", "."), TorchRuntime.ParseDevice(parityOptions.Get("device", "cpu")));
    var report = ParityCheck.Run(parityModel, parityOptions.Get("expected", "expected.safetensors"));
    Console.WriteLine(JsonSerializer.Serialize(report));
    return report.Passed ? 0 : 1;
}

if (args.Length > 0 && args[0] == "aha-rollouts")
{
    var ahaOptions = Args.Parse(args[1..]);
    var ahaFigures = new Dictionary<string, object>
    {
        ["what"] = "tokens/s of the replica's engines on the aha recipe's rollouts: one batch of the step's 128 sequences "
            + "(batch-at-once Sampler, the default) vs ContinuousSampler with `rows` rows; completions ending at the "
            + "end-of-sequence token (the run's length spread) and fixed at 256 tokens",
        ["machine"] = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}",
        ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["device"] = "cpu", ["dtype"] = "Float32",
        ["omp_num_threads"] = Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "unset",
    };
    foreach (var (key, value) in AhaRolloutBench.Run(ahaOptions.Get("model", "models/countdown-tiny"), ahaOptions))
    {
        ahaFigures[key] = value;
    }

    Console.WriteLine(Save(ahaFigures, ahaOptions));
    return 0;
}

if (args.Length > 0 && args[0] == "continuous")
{
    // model-bench continuous [--shape small] [--device cpu] [--dtype float32] [--sequences 128] [--rows 32,128] [--new 256]
    //                        [--eos 13] [--repeats 3] [--output FILE]: Sampler vs ContinuousSampler on skewed lengths.
    var benchOptions = Args.Parse(args[1..]);
    var benchShape = benchOptions.Get("shape", "small");
    var benchDevice = TorchRuntime.ParseDevice(benchOptions.Get("device", "cpu"));
    var benchDtype = TorchRuntime.ParseDtype(benchOptions.Get("dtype", "float32"));
    using var benchModel = new Qwen2ForCausalLM(Shapes.Get(benchShape).Validated(), benchDevice, benchDtype);
    benchModel.InitializeWeights(0);
    benchModel.eval();
    var figures = new Dictionary<string, object>
    {
        ["shape"] = benchShape, ["parameters"] = benchModel.ParameterCount(), ["device"] = benchDevice.ToString(), ["dtype"] = benchDtype.ToString(),
        ["machine"] = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}",
        ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["omp_num_threads"] = Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "unset",
    };
    foreach (var (key, value) in ContinuousBench.Run(benchModel, benchOptions))
    {
        figures[key] = value;
    }

    Console.WriteLine(Save(figures, benchOptions));
    return 0;
}

var options = Args.Parse(args);
var shape = options.Get("shape", "small");
var device = TorchRuntime.ParseDevice(options.Get("device", "cpu"));
var dtype = TorchRuntime.ParseDtype(options.Get("dtype", "float32"));
var batches = options.Get("batches", "1,64,256").Split(',').Select(int.Parse).ToArray();
var promptLength = options.PositiveInt("prompt", 128);
var newTokens = options.PositiveInt("new", 256);
var repeats = options.PositiveInt("repeats", 1);
if (repeats % 2 == 0)
{
    throw new ArgumentException($"--repeats takes an odd count (the median is one of the runs), got {repeats}");
}
var results = new Dictionary<string, object>
{
    ["shape"] = shape, ["device"] = device.ToString(), ["dtype"] = dtype.ToString(),
    ["prompt_length"] = promptLength, ["new_tokens"] = newTokens, ["generate_repeats"] = repeats,
    ["machine"] = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}",
    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
};

var config = Shapes.Get(shape).Validated();
using var model = new Qwen2ForCausalLM(config, device, dtype);
model.InitializeWeights(0);
model.eval();
results["parameters"] = model.ParameterCount();
Console.Error.WriteLine($"{shape}: {model.ParameterCount():N0} parameters on {device} in {dtype}");

// --loops eager,fixed,graph: the decode loops to time (DecodeLoopMode); the first one's figures are the plain
// generate_B*_tok_per_s keys, every one's are also under generate_<loop>_B*_tok_per_s. The attention is the default
// one unless GRPO_DECODE_ATTENTION says otherwise.
var loops = options.Get("loops", "eager").Split(',').Select(name => DecodeOptions.ParseLoop(name, "--loops")).ToArray();
var decoding = DecodeOptions.FromEnvironment();
results["decode_loops"] = string.Join(",", loops).ToLowerInvariant();
foreach (var loop in loops)
{
    var sampler = new Sampler(model, options: decoding with { Loop = loop });
    var name = loop.ToString().ToLowerInvariant();
    foreach (var batch in options.Has("skip-generate") ? [] : batches)
    {
        var random = new Random(batch);
        var prompts = Enumerable.Range(0, batch)
            .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, promptLength).Select(_ => random.Next(0, config.VocabSize - 1)).ToArray())
            .ToArray();
        // Forced length (no end-of-sequence token), as the peer's min_new_tokens = max_new_tokens.
        var parameters = new SamplingParams { Temperature = 1.0, MaxNewTokens = newTokens, Seed = 1 };
        sampler.Generate(prompts, parameters with { MaxNewTokens = 8 }); // warm-up
        var runs = Enumerable.Range(0, repeats).Select(_ => AhaRolloutBench.Measure(() => sampler.Generate(prompts, parameters)).Rate).ToArray();
        var rate = runs.Order().ElementAt(repeats / 2); // the median (of an odd count)
        if (loop == loops[0])
        {
            results[$"generate_B{batch}_tok_per_s"] = rate;
        }

        results[$"generate_{name}_B{batch}_tok_per_s"] = rate;
        results[$"generate_{name}_B{batch}_runs_tok_per_s"] = runs;
        Console.Error.WriteLine($"generate [{name}] B={batch} P={promptLength} N={newTokens}: {rate:F0} tok/s (median of {string.Join(", ", runs.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))})");
        Save(results, options); // a later loop that fails (e.g. a CUDA graph the libtorch refuses) leaves these figures behind
    }
}

if (loops.Length > 1 && !options.Has("skip-generate"))
{
    // Do the loops decode alike? Greedy, 4 rows of different prompt lengths (left padding), 48 tokens: the share of
    // tokens each loop has in common with the first (bf16 attention kernels differ between eager and fixed, so a late
    // token may flip there; fixed and graph run the same kernels and must agree exactly).
    var random = new Random(7);
    var prompts = new[] { 40, 17, 64, 5 }
        .Select(length => (IReadOnlyList<int>)Enumerable.Range(0, length).Select(_ => random.Next(0, config.VocabSize - 1)).ToArray())
        .ToArray();
    var greedy = new SamplingParams { Temperature = 0, MaxNewTokens = 48 };
    var reference = new Sampler(model, options: decoding with { Loop = loops[0] }).Generate(prompts, greedy);
    foreach (var loop in loops.Skip(1))
    {
        var other = new Sampler(model, options: decoding with { Loop = loop }).Generate(prompts, greedy);
        var same = reference.Zip(other).Sum(pair => pair.First.TokenIds.Zip(pair.Second.TokenIds).TakeWhile(t => t.First == t.Second).Count());
        var share = (double)same / reference.Sum(r => r.TokenIds.Length);
        results[$"greedy_prefix_agreement_{loop.ToString().ToLowerInvariant()}_vs_{loops[0].ToString().ToLowerInvariant()}"] = Math.Round(share, 4);
        Console.Error.WriteLine($"greedy agreement {loop} vs {loops[0]}: {share:P1} of tokens before the first difference");
    }
}

if (!options.Has("skip-train"))
{
    var trainBatch = options.PositiveInt("train-batch", 8);
    var trainSeq = options.PositiveInt("train-seq", 512);
    model.GradientCheckpointing = options.Has("gradient-checkpointing");
    results["gradient_checkpointing"] = model.GradientCheckpointing;
    var (rate, forwardMs, backwardMs, optimizerMs) = TrainingBench.Run(model, trainBatch, trainSeq, device);
    results[$"train_B{trainBatch}_T{trainSeq}_tok_per_s"] = Math.Round(rate, 1);
    results[$"train_B{trainBatch}_T{trainSeq}_split_ms"] = new Dictionary<string, double>
    {
        ["forward"] = Math.Round(forwardMs, 1), ["backward"] = Math.Round(backwardMs, 1), ["optimizer"] = Math.Round(optimizerMs, 1),
    };
    Console.Error.WriteLine($"train B={trainBatch} T={trainSeq}: {rate:F0} tok/s (forward {forwardMs:F1} ms, backward {backwardMs:F1} ms, optimizer {optimizerMs:F1} ms)");
}

// The process's peak resident memory: compare runs with and without --gradient-checkpointing on the same shape.
results["peak_working_set_gb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1e9, 3);
Console.WriteLine(Save(results, options));
return 0;

// The figures as JSON, also written to --output when given.
static string Save(Dictionary<string, object> figures, Args options)
{
    var json = JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true });
    if (options.Has("output"))
    {
        File.WriteAllText(options.Get("output", string.Empty), json);
    }

    return json;
}
