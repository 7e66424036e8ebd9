using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void LibTorchLoadsAndComputesOnThisMachine()
    {
        // On Debian 12 this only works because the build marked GLIBCXX_3.4.32 weak (build/TorchSharp.targets).
        using var scope = NewDisposeScope();
        var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        var product = a.matmul(a.T);
        Assert.Equal([5f, 14f, 14f, 50f], product.data<float>().ToArray());
    }

    [Theory]
    [InlineData("bf16", ScalarType.BFloat16)]
    [InlineData("float32", ScalarType.Float32)]
    public void DtypesParseFromTheirCommonNames(string name, ScalarType expected)
    {
        Assert.Equal(expected, TorchRuntime.ParseDtype(name));
    }

    [Fact]
    public void UnknownDevicesAndDtypesFailWithTheValidChoices()
    {
        Assert.Contains("cuda:N", Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDevice("tpu")).Message, StringComparison.Ordinal);
        Assert.Contains("bfloat16", Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDtype("int8")).Message, StringComparison.Ordinal);
        Assert.Equal(DeviceType.CPU, TorchRuntime.ParseDevice("CPU").type);
    }
}
