using System.Diagnostics;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ModelBench;

/// <summary>
/// The optimizer part of a training step, with the gradients given (no forward or backward): per parameter, as the
/// trainer did before its flat buffers (float32 masters gathered one by one, clip_grad_norm_, AdamW over every tensor,
/// masters written back and gradients zeroed one by one), against flat (<see cref="FlatParameters"/>,
/// <see cref="MasterWeights"/>, <see cref="GradientClipping"/>: a handful of ops in all). On a GPU each op costs ~10 us
/// of host time, so with Qwen2.5-0.5B's 290 tensors the per-parameter step is host-bound; the thin-0.5B shape (the same
/// 290 tensors, tiny widths) shows that cost on a CPU as well. Masters are used as in the trainer: for bf16/fp16.
/// </summary>
internal static class OptimizerStepBench
{
    private const double MaxNorm = 1.0;

    public static Dictionary<string, object> Run(Args options, Device device, ScalarType dtype)
    {
        var shape = options.Get("shape", "thin-0.5B");
        var steps = options.PositiveInt("steps", 20);
        var config = Shapes.Get(shape).Validated();
        var masters = MasterWeights.AppliesTo(dtype, enabled: true);
        using var probe = new Qwen2ForCausalLM(config, META, dtype);
        var results = new Dictionary<string, object>
        {
            ["shape"] = shape, ["parameters"] = probe.ParameterCount(), ["tensors"] = probe.parameters().Count(),
            ["fp32_master_weights"] = masters, ["steps"] = steps,
        };
        results["per_parameter_step_ms"] = Math.Round(PerParameter(config, device, dtype, masters, steps), 3);
        var (flatMs, checkMs) = Flat(config, device, dtype, masters, steps);
        results["flat_step_ms"] = Math.Round(flatMs, 3);
        results["flat_ensure_intact_ms"] = Math.Round(checkMs, 3);
        Console.Error.WriteLine(
            $"optimizer step ({shape}, {dtype}, masters {masters}): per parameter {results["per_parameter_step_ms"]} ms, "
            + $"flat {results["flat_step_ms"]} ms (of which the EnsureIntact check {results["flat_ensure_intact_ms"]} ms)");
        return results;
    }

    private static Qwen2ForCausalLM Model(Qwen2Config config, Device device, ScalarType dtype)
    {
        var model = new Qwen2ForCausalLM(config, device, dtype);
        model.InitializeWeights(0);
        return model;
    }

    private static double PerParameter(Qwen2Config config, Device device, ScalarType dtype, bool masters, int steps)
    {
        using var model = Model(config, device, dtype);
        var parameters = model.parameters().ToArray();
        foreach (var parameter in parameters)
        {
            parameter.grad = randn_like(parameter).mul_(1e-3);
        }

        var copies = masters ? parameters.Select(p => new Parameter(p.to(ScalarType.Float32).detach().clone())).ToArray() : null;
        using var optimizer = optim.AdamW(copies ?? parameters, 1e-6, 0.9, 0.999, 1e-8, 0.01);
        return Time(device, steps, () =>
        {
            using var noGrad = no_grad();
            for (var i = 0; copies is not null && i < parameters.Length; i++)
            {
                using var grad = parameters[i].grad!;
                using var target = copies[i].grad;
                if (target is null)
                {
                    copies[i].grad = grad.to(ScalarType.Float32);
                }
                else
                {
                    target.copy_(grad);
                }
            }

            nn.utils.clip_grad_norm_(copies ?? parameters, MaxNorm); // a double: waits for the device, as the trainer did
            optimizer.step();
            for (var i = 0; copies is not null && i < parameters.Length; i++)
            {
                parameters[i].copy_(copies[i]);
            }

            optimizer.zero_grad();
            foreach (var parameter in copies is null ? [] : parameters)
            {
                using var grad = parameter.grad!;
                grad.zero_();
            }
        });
    }

    /// <summary>Milliseconds per flat step, and of its <see cref="FlatParameters.EnsureIntact"/> check alone.</summary>
    private static (double StepMs, double CheckMs) Flat(Qwen2Config config, Device device, ScalarType dtype, bool masters, int steps)
    {
        using var model = Model(config, device, dtype);
        using var flat = FlatParameters.Create(model);
        using var master = masters ? new MasterWeights(flat) : null;
        using var optimizer = optim.AdamW([master?.Parameter ?? flat.Parameter], 1e-6, 0.9, 0.999, 1e-8, 0.01);
        using var grads = randn_like(flat.Grad).mul_(1e-3);
        var check = Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
        {
            flat.EnsureIntact();
        }

        var checkMs = check.Elapsed.TotalMilliseconds / 100;
        return (Time(device, steps, () =>
        {
            flat.Grad.copy_(grads); // the one op that stands for a backward here
            flat.EnsureIntact(); // as PolicyUpdate, every step
            master?.GatherGradients();
            using var norm = GradientClipping.ClipByGlobalNorm([master?.Grad ?? flat.Grad], MaxNorm);
            _ = norm.item<float>(); // one read-back, as PolicyUpdate's
            optimizer.step();
            master?.WriteBack();
            flat.ZeroGrad();
        }), checkMs);
    }

    /// <summary>Milliseconds per step after two warm-up steps.</summary>
    private static double Time(Device device, int steps, Action step)
    {
        step();
        step();
        DeviceWait.For(device);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            step();
        }

        DeviceWait.For(device);
        return watch.Elapsed.TotalMilliseconds / steps;
    }
}
