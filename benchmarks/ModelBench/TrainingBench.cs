using System.Diagnostics;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace ModelBench;

/// <summary>Forward + backward + AdamW on random tokens with per-token log-probs, like the peer's training step.</summary>
internal static class TrainingBench
{
    public static double Run(Qwen2ForCausalLM model, int batch, int sequence, Device device, int steps = 3)
    {
        model.train();
        // As the trainers: the parameters in one flat buffer, so AdamW and zeroing are one op each, not one per parameter.
        using var parameters = FlatParameters.Create(model);
        using var optimizer = optim.AdamW([parameters.Parameter], lr: 1e-6);
        using var ids = randint(0, model.Config.VocabSize - 1, [batch, sequence], dtype: ScalarType.Int64, device: device);
        using var positions = arange(sequence, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(batch, sequence).contiguous();
        void Step()
        {
            using var scope = NewDisposeScope();
            var hidden = model.model.Forward(ids, positions);
            var logProbs = TokenLogProbs.FromHidden(hidden.narrow(1, 0, sequence - 1), model.OutputWeight, ids.narrow(1, 1, sequence - 1));
            (-(logProbs * 0.1).mean()).backward();
            optimizer.step();
            parameters.ZeroGrad();
        }

        Step();
        Step();
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            Step();
        }

        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }

        model.eval();
        return batch * sequence * steps / watch.Elapsed.TotalSeconds;
    }
}
