using GrpoAspire.Model;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>
/// The staged capture and apply that GPU models take (one host buffer per dtype, one queue of copies), run here on
/// CPU with unpinned buffers: same bytes, same hashes, same model as the direct path.
/// </summary>
public sealed class StagedTransferTests
{
    [Theory]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    public void StagedCaptureAndApplyMatchTheDirectPath(string dtype)
    {
        var type = TorchRuntime.ParseDtype(dtype);
        using var source = TinyQwen.Random(seed: 1, type);
        using var target = TinyQwen.Random(seed: 2, type);
        using var sourceStaging = HostStaging.Unpinned(ModelTensors.Named(source).ToList());
        using var targetStaging = HostStaging.Unpinned(ModelTensors.Named(target).ToList());

        var direct = WeightSnapshot.Capture(source, version: 1);
        var staged = WeightSnapshot.Capture(source, version: 1, sourceStaging);
        Assert.Equal(direct.Tensors.Select(t => t.Name), staged.Tensors.Select(t => t.Name));
        Assert.Equal(direct.Tensors.Select(t => Convert.ToHexString(t.Data.Digest())), staged.Tensors.Select(t => Convert.ToHexString(t.Data.Digest())));
        Assert.Equal(WeightChecksum.Of(direct), WeightChecksum.Of(staged));

        WeightApplier.Apply(target, Streams.Assemble(Streams.Of(staged)), targetStaging);

        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(target));
        Assert.Equal(TinyQwen.Logits(source), TinyQwen.Logits(target));
    }

    [Fact]
    public void StagingIsReusedAcrossVersionsWithoutMixingThem()
    {
        using var source = TinyQwen.Random(seed: 1);
        using var target = TinyQwen.Random(seed: 2);
        using var sourceStaging = HostStaging.Unpinned(ModelTensors.Named(source).ToList());
        using var targetStaging = HostStaging.Unpinned(ModelTensors.Named(target).ToList());

        var first = WeightSnapshot.Capture(source, version: 1, sourceStaging);
        var firstChecksum = WeightChecksum.Of(source);
        using (no_grad())
        {
            source.model.norm.weight.add_(0.25);
        }

        var second = WeightSnapshot.Capture(source, version: 2, sourceStaging);

        // The first snapshot owns its bytes: the staging's reuse did not change it.
        Assert.Equal(firstChecksum, WeightChecksum.Of(first));
        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(second));
        Assert.NotEqual(WeightChecksum.Of(first), WeightChecksum.Of(second));

        WeightApplier.Apply(target, Streams.Assemble(Streams.Of(first)), targetStaging);
        Assert.Equal(firstChecksum, WeightChecksum.Of(target));
        WeightApplier.Apply(target, Streams.Assemble(Streams.Of(second)), targetStaging);
        Assert.Equal(WeightChecksum.Of(source), WeightChecksum.Of(target));
    }

    [Fact]
    public void AStagingLaidOutForAnotherModelIsRefused()
    {
        using var model = TinyQwen.Random(seed: 1);
        using var other = TinyQwen.Random(seed: 1, config: TinyQwen.Config(tied: false));
        using var staging = HostStaging.Unpinned(ModelTensors.Named(other).ToList());

        Assert.Throws<ArgumentException>(() => WeightSnapshot.Capture(model, version: 1, staging));
        var weights = Streams.Assemble(Streams.Of(WeightSnapshot.Capture(model, version: 1)));
        Assert.Throws<ArgumentException>(() => WeightApplier.Apply(model, weights, staging));
    }
}
