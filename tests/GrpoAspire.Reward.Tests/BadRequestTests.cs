using Grpc.Core;
using GrpoAspire.Contracts.V1;
using static GrpoAspire.Reward.Tests.Requests;

namespace GrpoAspire.Reward.Tests;

/// <summary>Every bad request is InvalidArgument naming the item and the problem; the service lives on.</summary>
public sealed class BadRequestTests(RewardServiceFixture service) : IClassFixture<RewardServiceFixture>
{
    private Task<RpcException> AssertScoreIsInvalid(ScoreRequest request, params string[] keyPhrases) =>
        AssertInvalidArgument(async () => await service.Client.ScoreAsync(request), keyPhrases);

    [Fact]
    public Task CompletionWithNoNumbersIsInvalid() =>
        AssertScoreIsInvalid(
            Score(Completion("ok", Correct), Completion("empty", Correct, nums: [])),
            "completions[1] (id 'empty')", "at least one number");

    [Fact]
    public Task CompletionWithMoreThanSixNumbersIsInvalid() =>
        AssertScoreIsInvalid(
            Score(Completion("seven", Correct, nums: [1, 2, 3, 4, 5, 6, 7])),
            "completions[0] (id 'seven')", "\"nums\"", "holds 7 values, at most 6 allowed");

    [Fact]
    public async Task CompletionWithANegativeNumberIsInvalid()
    {
        var error = await AssertScoreIsInvalid(
            Score(Completion("neg", Correct, nums: [3, -5, 7])), "completions[0] (id 'neg')", "non-negative, got -5");

        // The domain's ArgumentException is quoted without .NET's " (Parameter 'nums')".
        Assert.EndsWith("got -5", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public Task CompletionOverMaxCompletionBytesIsInvalid() =>
        AssertScoreIsInvalid(
            Score(Completion("big", new string('x', 65_537))),
            "completions[0] (id 'big')", "65537 UTF-8 bytes", "MaxCompletionBytes 65536");

    [Fact]
    public Task CompletionOverTheLimitInUtf8BytesButNotInCharactersIsInvalid() =>
        AssertScoreIsInvalid(
            Score(Completion("euro", new string('€', 22_000))), "completions[0] (id 'euro')", "66000 UTF-8 bytes");

    [Fact]
    public Task CompletionAtTheLimitIsScored() =>
        service.Client.ScoreAsync(Score(Completion("edge", new string('x', 65_536)))).ResponseAsync;

    [Fact]
    public Task BatchOverMaxBatchSizeIsInvalid() =>
        AssertScoreIsInvalid(
            Score(Enumerable.Range(0, 4097).Select(i => Completion($"c{i}", Correct)).ToArray()),
            "batch of 4097 completions", "MaxBatchSize 4096");

    [Fact]
    public Task UnknownRewardFunctionIsInvalidAndTheMessageListsTheValidNames() =>
        AssertScoreIsInvalid(
            Score(Completion("a", Correct)).WithFunctions(("format", 1), ("bogus", 1)),
            "reward_functions[1]", "unknown reward function 'bogus'", "format, equation, equation_tinyzero");

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public Task NonFiniteWeightIsInvalid(double weight) =>
        AssertScoreIsInvalid(
            Score(Completion("a", Correct)).WithFunctions(("equation", weight)), "reward_functions", "must be finite");

    [Fact]
    public Task DuplicateRewardFunctionIsInvalid() =>
        AssertScoreIsInvalid(
            Score(Completion("a", Correct)).WithFunctions(("format", 1), ("equation", 1), ("format", 2)),
            "reward_functions", "may appear once");

    [Fact]
    public async Task LongIdsAreShortenedInErrorMessages()
    {
        var error = await AssertScoreIsInvalid(
            Score(Completion(new string('i', 10_000), Correct, nums: [])), "completions[0]", "...')");

        Assert.True(error.Status.Detail.Length < 200, error.Status.Detail);
    }

    [Fact]
    public async Task BadStreamMessageEndsTheStreamWithInvalidArgumentNamingTheMessage()
    {
        using var call = service.Client.ScoreStream();
        await call.RequestStream.WriteAsync(StreamMessage(Completion("good", Correct)));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal("good", Assert.Single(call.ResponseStream.Current.Scores).Id);

        await call.RequestStream.WriteAsync(
            StreamMessage(Completion("fine", Correct), Completion("bad", Correct, nums: [])));

        await AssertInvalidArgument(
            () => call.ResponseStream.MoveNext(CancellationToken.None),
            "message 1: completions[1] (id 'bad')", "at least one number");
    }

    [Fact]
    public async Task ServiceStillScoresGoodRequestsAfterBadOnes()
    {
        await AssertScoreIsInvalid(Score(Completion("bad", Correct, nums: [-1])), "non-negative");
        await AssertScoreIsInvalid(Score(Completion("a", Correct)).WithFunctions(("nope", 1)), "unknown");

        var response = await service.Client.ScoreAsync(Score(Completion("good", Correct)));

        Assert.Equal(2.0, Assert.Single(response.Scores).Total);
    }
}
