using Grpc.Core;
using static GrpoAspire.Reward.Tests.Requests;

namespace GrpoAspire.Reward.Tests;

/// <summary>The gRPC message limit derives from the batch and completion limits.</summary>
public sealed class MessageSizeTests(SmallLimitsFixture service) : IClassFixture<SmallLimitsFixture>
{
    [Fact]
    public async Task FullBatchOfTheLargestCompletionsFitsInOneMessage()
    {
        var text = new string('x', 1000);

        var response = await service.Client.ScoreAsync(Score(Completion("a", text), Completion("b", text)));

        Assert.Equal(2, response.Scores.Count);
    }

    [Fact]
    public async Task MessageOverTheDerivedLimitIsResourceExhausted()
    {
        // 2 * (1000 + 16384 + 1024) = 36,816 bytes at most (text, record, the rest); the ids alone are over it.
        var request = Score(Completion(new string('a', 20_000), "x"), Completion(new string('b', 20_000), "x"));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await service.Client.ScoreAsync(request));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }
}
