using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests;

/// <summary>The fills that keep their scalar alive across the native call give what masked_fill gives.</summary>
public sealed class ScalarFillTests
{
    [Fact]
    public void FillsWhereTheMaskIsSetAndLeavesTheRest()
    {
        using var scope = NewDisposeScope();
        var values = arange(6, dtype: ScalarType.Float32).view(2, 3);
        var mask = tensor(new[] { true, false, true, false, false, true }).view(2, 3);

        var filled = ScalarFill.MaskedFill(values, mask, double.NegativeInfinity);
        Assert.Equal([float.NegativeInfinity, 1f, float.NegativeInfinity, 3f, 4f, float.NegativeInfinity], filled.data<float>().ToArray());
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], values.data<float>().ToArray()); // out of place

        var bf16 = zeros([2, 3], dtype: ScalarType.BFloat16);
        ScalarFill.MaskedFillInPlace(bf16, mask, finfo(ScalarType.BFloat16).min);
        Assert.Equal(finfo(ScalarType.BFloat16).min, bf16[0, 0].to(ScalarType.Float64).item<double>());
        Assert.Equal(0.0, bf16[0, 1].to(ScalarType.Float64).item<double>());
    }
}
