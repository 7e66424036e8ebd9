using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Sampling;

/// <summary>The decode options' names, the environment's overrides and the auto loop (no model).</summary>
public sealed class DecodeOptionsTests
{
    private static Func<string, string?> Environment(string? loop = null, string? attention = null) => name => name switch
    {
        DecodeOptions.LoopVariable => loop,
        DecodeOptions.AttentionVariable => attention,
        _ => null,
    };

    [Fact]
    public void TheDefaultsAreTheAutoLoopAndGroupedAttention()
    {
        Assert.Equal(DecodeLoopMode.Auto, DecodeOptions.Default.Loop);
        Assert.Equal(DecodeAttentionMode.Grouped, DecodeOptions.Default.Attention);
        Assert.Equal(DecodeOptions.Default, DecodeOptions.Default.WithOverrides(Environment()));
    }

    [Fact]
    public void TheEnvironmentOverridesOnlyWhatItSets()
    {
        var configured = new DecodeOptions { Loop = DecodeLoopMode.Eager, Attention = DecodeAttentionMode.Sdpa };
        Assert.Equal(configured with { Loop = DecodeLoopMode.Fixed }, configured.WithOverrides(Environment(loop: "fixed")));
        Assert.Equal(
            new DecodeOptions { Loop = DecodeLoopMode.Graph, Attention = DecodeAttentionMode.SdpaStatic },
            configured.WithOverrides(Environment(loop: "graph", attention: "sdpa-static")));
        Assert.Equal(configured, configured.WithOverrides(Environment(loop: "", attention: "")));
    }

    [Fact]
    public void ABadLoopFailsListingTheValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => DecodeOptions.Default.WithOverrides(Environment(loop: "graphs")));
        Assert.Equal("GRPO_DECODE_LOOP='graphs' is not valid; valid: auto, eager, fixed, graph", error.Message);
    }

    [Fact]
    public void ABadAttentionFailsListingTheValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => DecodeOptions.ParseAttention("flash", "Generation:DecodeAttention"));
        Assert.Equal("Generation:DecodeAttention='flash' is not valid; valid: grouped, sdpa, sdpa-static", error.Message);
    }

    [Fact]
    public void AutoIsTheEagerLoopOnACpuAndAnExplicitLoopIsKept()
    {
        Assert.Equal(DecodeLoopMode.Eager, DecodeLoop.Resolve(DecodeLoopMode.Auto, CPU));
        Assert.Equal(DecodeLoopMode.Fixed, DecodeLoop.Resolve(DecodeLoopMode.Fixed, CPU));
        // Asked for explicitly, graphs are not swapped for another loop: the capture says why they cannot run (FixedShapeDecoderTests).
        Assert.Equal(DecodeLoopMode.Graph, DecodeLoop.Resolve(DecodeLoopMode.Graph, CPU));
    }
}
