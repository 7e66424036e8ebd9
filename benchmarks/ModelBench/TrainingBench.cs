using System.Diagnostics;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace ModelBench;

/// <summary>Forward + backward + AdamW on random tokens with per-token log-probs, like the peer's training step.</summary>
internal static class TrainingBench
{
    /// <summary>Tokens per second over <paramref name="steps"/> steps, and the milliseconds of each phase of two more.</summary>
    /// <returns>The rate, and forward / backward / optimizer milliseconds (median of two steps timed with a
    /// synchronization after each phase, so their sum is a little above the plain step's time).</returns>
    public static (double TokensPerSecond, double ForwardMs, double BackwardMs, double OptimizerMs) Run(
        Qwen2ForCausalLM model, int batch, int sequence, Device device, int steps = 3)
    {
        model.train();
        // As the trainers: the parameters in one flat buffer, so AdamW and zeroing are one op each, not one per parameter.
        using var parameters = FlatParameters.Create(model);
        using var optimizer = optim.AdamW([parameters.Parameter], lr: 1e-6);
        using var ids = randint(0, model.Config.VocabSize - 1, [batch, sequence], dtype: ScalarType.Int64, device: device);
        using var positions = arange(sequence, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(batch, sequence).contiguous();
        var phases = new List<double[]>();
        void Step(bool split = false)
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            var hidden = model.model.Forward(ids, positions);
            var logProbs = TokenLogProbs.FromHidden(hidden.narrow(1, 0, sequence - 1), model.OutputWeight, ids.narrow(1, 1, sequence - 1));
            var loss = -(logProbs * 0.1).mean();
            var forward = split ? Lap(watch, device) : 0;
            loss.backward();
            EngineHandles.Release(device);
            var backward = split ? Lap(watch, device) : 0;
            optimizer.step();
            parameters.ZeroGrad();
            if (split)
            {
                phases.Add([forward, backward, Lap(watch, device)]);
            }
        }

        Step();
        Step();
        DeviceWait.For(device);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            Step();
        }

        DeviceWait.For(device);

        var rate = batch * sequence * steps / watch.Elapsed.TotalSeconds;
        Step(split: true);
        Step(split: true);
        model.eval();
        double Median(int phase) => phases.Select(p => p[phase]).Order().ElementAt(phases.Count / 2);
        return (rate, Median(0), Median(1), Median(2));
    }

    private static double Lap(Stopwatch watch, Device device)
    {
        DeviceWait.For(device);

        var ms = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        return ms;
    }
}
