using GrpoAspire.Model.Qwen2;
using TorchSharp;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Qwen2;

public sealed class Qwen2ArchitectureTests
{
    [Theory]
    [InlineData("qwen2.5-0.5b-instruct.json", 494_032_768L)]
    [InlineData("qwen2.5-3b-instruct.json", 3_085_938_688L)]
    public void RealQwenConfigsBuildOnTheMetaDeviceWithTransformersParameterCounts(string file, long expected)
    {
        var config = Qwen2Config.Load(Path.Combine(SharedPaths.HfQwen2, "configs", file));
        using var model = new Qwen2ForCausalLM(config, new Device(DeviceType.META), ScalarType.BFloat16);
        Assert.Equal(expected, model.ParameterCount());
    }

    [Fact]
    public void ParameterNamesAreTheHuggingFaceKeys()
    {
        var config = Qwen2Config.Load(Path.Combine(SharedPaths.HfQwen2, "qwen2-tiny-untied"));
        using var model = new Qwen2ForCausalLM(config, new Device(DeviceType.META));
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", names);
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", names);
        Assert.Contains("model.layers.2.mlp.down_proj.weight", names);
        Assert.Contains("model.layers.1.post_attention_layernorm.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.Contains("lm_head.weight", names);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names);
    }

    [Fact]
    public void BothConfigFormsGiveTheSameRopeThetaAndDtype()
    {
        var v5 = Qwen2Config.Load(Path.Combine(SharedPaths.HfQwen2, "qwen2-tiny-tied"));
        var v4 = Qwen2Config.Load(Path.Combine(SharedPaths.HfQwen2, "configs", "qwen2.5-3b-instruct.json"));
        Assert.Equal(1_000_000.0, v5.RopeTheta);
        Assert.Equal(1_000_000.0, v4.RopeTheta);
        Assert.Equal("float32", v5.CheckpointDtype);
        Assert.Equal("bfloat16", v4.CheckpointDtype);
        Assert.True(v5.TieWordEmbeddings);
        Assert.Equal([151645], v4.EosTokenIds);
    }

    [Fact]
    public void UnsupportedConfigsFailWithTheKeyInTheMessage()
    {
        var bad = new Qwen2Config { NumAttentionHeads = 6, NumKeyValueHeads = 4, HiddenSize = 48 };
        Assert.Contains("num_key_value_heads", Assert.Throws<InvalidDataException>(() => bad.Validated()).Message, StringComparison.Ordinal);
        var sliding = new Qwen2Config { UseSlidingWindow = true };
        Assert.Contains("use_sliding_window", Assert.Throws<InvalidDataException>(() => sliding.Validated()).Message, StringComparison.Ordinal);
    }
}
