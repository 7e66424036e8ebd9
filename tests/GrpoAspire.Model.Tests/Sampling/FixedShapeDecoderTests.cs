using GrpoAspire.Model.Cuda;
using GrpoAspire.Model.Sampling;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Tests.Sampling;

/// <summary>
/// The fixed-shape decode loop (the one a CUDA graph replays) against the eager one: same tokens, same log-probs. On a
/// CPU it runs the very step a graph would record, so everything but the recording itself is checked here.
/// </summary>
public sealed class FixedShapeDecoderTests
{
    private static readonly int[][] Prompts = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14]];

    private static IReadOnlyList<GeneratedSequence> Run(DecodeLoopMode loop, SamplingParams parameters, long seed = 21)
    {
        using var model = TinyModels.Random(seed);
        return new Sampler(model, options: new DecodeOptions { Loop = loop }).Generate(Prompts, parameters);
    }

    private static void AssertSame(IReadOnlyList<GeneratedSequence> expected, IReadOnlyList<GeneratedSequence> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var row = 0; row < expected.Count; row++)
        {
            Assert.Equal(expected[row].TokenIds, actual[row].TokenIds);
            Assert.Equal(expected[row].FinishReason, actual[row].FinishReason);
            Assert.Equal(expected[row].LogProbs.Length, actual[row].LogProbs.Length);
            for (var i = 0; i < expected[row].LogProbs.Length; i++)
            {
                Assert.True(
                    System.Math.Abs(expected[row].LogProbs[i] - actual[row].LogProbs[i]) < 1e-5,
                    $"row {row} token {i}: log-prob {actual[row].LogProbs[i]} vs eager {expected[row].LogProbs[i]}");
            }
        }
    }

    [Fact]
    public void GreedyWithLeftPaddingEqualsTheEagerLoop()
    {
        var parameters = new SamplingParams { Temperature = 0, MaxNewTokens = 20 };
        AssertSame(Run(DecodeLoopMode.Eager, parameters), Run(DecodeLoopMode.Fixed, parameters));
    }

    [Fact]
    public void SeededSamplingEqualsTheEagerLoop()
    {
        // No row finishes early, so both loops draw the same random numbers in the same order.
        var parameters = new SamplingParams { Seed = 5, MaxNewTokens = 24, Temperature = 0.9, TopK = 30, TopP = 0.95 };
        var eager = Run(DecodeLoopMode.Eager, parameters);
        AssertSame(eager, Run(DecodeLoopMode.Fixed, parameters));
        Assert.NotEqual(eager[0].TokenIds, Run(DecodeLoopMode.Fixed, parameters with { Seed = 6 })[0].TokenIds);
    }

    [Fact]
    public void FinishedRowsKeepTheirEndWhileTheOthersContinue()
    {
        var greedy = Run(DecodeLoopMode.Eager, new SamplingParams { Temperature = 0, MaxNewTokens = 12 });
        var eos = greedy[1].TokenIds[2];
        var parameters = new SamplingParams { Temperature = 0, MaxNewTokens = 12, EosTokenIds = [eos] };
        var eager = Run(DecodeLoopMode.Eager, parameters);
        var fixedShape = Run(DecodeLoopMode.Fixed, parameters);
        AssertSame(eager, fixedShape);
        Assert.Equal(FinishReason.Eos, fixedShape[1].FinishReason);
        Assert.Equal(Array.IndexOf(greedy[1].TokenIds, eos) + 1, fixedShape[1].TokenIds.Length);
        Assert.Contains(fixedShape, row => row.TokenIds.Length == 12); // another row ran on to the limit
    }

    [Fact]
    public void OneTokenAndTheWholeCapacityBothWork()
    {
        AssertSame(
            Run(DecodeLoopMode.Eager, new SamplingParams { Temperature = 0, MaxNewTokens = 1 }),
            Run(DecodeLoopMode.Fixed, new SamplingParams { Temperature = 0, MaxNewTokens = 1 }));
        var full = Run(DecodeLoopMode.Fixed, new SamplingParams { Temperature = 0, MaxNewTokens = 40 });
        Assert.All(full, row => Assert.Equal(40, row.TokenIds.Length));
    }

    [Fact]
    public void AskingForGraphsOnACpuModelIsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => Run(DecodeLoopMode.Graph, new SamplingParams { Temperature = 0, MaxNewTokens = 4 }));
        Assert.Contains("CUDA graphs need a CUDA device", error.Message);
        Assert.NotNull(CudaGraph.Unavailable); // this machine has no CUDA: the reason is said, not a crash
    }
}
