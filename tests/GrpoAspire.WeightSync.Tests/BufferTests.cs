using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>Weights are what a state dict holds: parameters and persistent buffers, not derived buffers.</summary>
public sealed class BufferTests
{
    [Fact]
    public void PersistentBuffersTravelAndNonPersistentOnesStayLocal()
    {
        using var source = new ModuleWithBuffers(1.0f);
        using var target = new ModuleWithBuffers(2.0f);

        var weights = Streams.Assemble(Streams.Of(WeightSnapshot.Capture(source, version: 1)));
        WeightApplier.Apply(target, weights);

        Assert.Equal(["weight", "running_mean"], weights.Tensors.Select(t => t.Name));
        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(target));
        Assert.Equal(1.0f, target.get_buffer("running_mean")!.mean().item<float>());
        Assert.Equal(2.0f, target.get_buffer("cache")!.mean().item<float>());
    }

    [Fact]
    public void IntegerTensorsCannotBeCaptured()
    {
        using var model = new ModuleWithBuffers(1.0f, counterDtype: ScalarType.Int64);

        var error = Assert.Throws<ArgumentException>(() => WeightSnapshot.Capture(model, version: 1));

        Assert.Contains("tensor 'counter' is Int64; only float32, bfloat16, float16", error.Message, StringComparison.Ordinal);
    }

    private sealed class ModuleWithBuffers : nn.Module
    {
        public Parameter weight;

        public ModuleWithBuffers(float value, ScalarType? counterDtype = null)
            : base(nameof(ModuleWithBuffers))
        {
            weight = nn.Parameter(full(3, 4, value));
            register_buffer("running_mean", full(4, value), persistent: true);
            register_buffer("cache", full(4, value), persistent: false);
            if (counterDtype is { } type)
            {
                register_buffer("counter", zeros(1, dtype: type), persistent: true);
            }

            RegisterComponents();
        }
    }
}
