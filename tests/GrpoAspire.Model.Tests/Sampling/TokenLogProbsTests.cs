using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Sampling;

public sealed class TokenLogProbsTests
{
    [Theory]
    [InlineData(1.0, 5)]
    [InlineData(0.7, 3)]
    [InlineData(1.3, 64)]
    public void ChunkedLogProbsEqualTheFullLogSoftmaxInValueAndGradient(double temperature, int chunk)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Random(seed: 3, tied: false);
        model.train();
        var ids = randint(0, 96, [2, 7], dtype: ScalarType.Int64, generator: new Generator(5));
        var positions = arange(7, dtype: ScalarType.Int64).unsqueeze(0).expand(2, 7);
        var targets = randint(0, 96, [2, 7], dtype: ScalarType.Int64, generator: new Generator(6));
        var weights = rand([2, 7], generator: new Generator(7));

        var reference = TokenLogProbs.FromLogits(model.Forward(ids, positions), targets, temperature);
        (reference * weights).sum().backward();
        var referenceGrads = model.parameters().Select(p => p.grad!.clone()).ToList();
        model.zero_grad();

        var hidden = model.model.Forward(ids, positions);
        var chunked = TokenLogProbs.FromHidden(hidden, model.OutputWeight, targets, temperature, chunk);
        (chunked * weights).sum().backward();
        var chunkedGrads = model.parameters().Select(p => p.grad!.clone()).ToList();

        Assert.True(chunked.allclose(reference, rtol: 1e-5, atol: 1e-5), "log-probs differ");
        for (var i = 0; i < referenceGrads.Count; i++)
        {
            Assert.True(chunkedGrads[i].allclose(referenceGrads[i], rtol: 1e-4, atol: 1e-6), $"gradient {i} differs");
        }
    }

    [Fact]
    public void InBfloat16TheChunkedGradientsFollowTheFullLogSoftmax()
    {
        // bf16 products (tensor cores on a GPU) with float32 sums over chunks: within bf16 rounding of autograd's own.
        using var scope = NewDisposeScope();
        using var model = TinyModels.Random(seed: 4, tied: false, dtype: ScalarType.BFloat16);
        model.train();
        var ids = randint(0, 96, [2, 9], dtype: ScalarType.Int64, generator: new Generator(8));
        var positions = arange(9, dtype: ScalarType.Int64).unsqueeze(0).expand(2, 9);
        var targets = randint(0, 96, [2, 9], dtype: ScalarType.Int64, generator: new Generator(9));
        TokenLogProbs.FromLogits(model.Forward(ids, positions), targets).sum().backward();
        var reference = model.parameters().Select(p => p.grad!.to(ScalarType.Float32).clone()).ToList();
        model.zero_grad();
        TokenLogProbs.FromHidden(model.model.Forward(ids, positions), model.OutputWeight, targets, 1.0, chunkTokens: 5).sum().backward();
        var chunked = model.parameters().Select(p => p.grad!.to(ScalarType.Float32)).ToList();
        for (var i = 0; i < reference.Count; i++)
        {
            var error = (chunked[i] - reference[i]).norm().item<float>() / (reference[i].norm().item<float>() + 1e-6f);
            Assert.True(error < 0.03, $"gradient {i}: relative difference {error}");
        }
    }
}
