using Grpc.Core;
using GrpoAspire.Contracts.V1;
using static GrpoAspire.Reward.Tests.Requests;

namespace GrpoAspire.Reward.Tests;

public sealed class ScoreTests(RewardServiceFixture service) : IClassFixture<RewardServiceFixture>
{
    [Fact]
    public async Task CorrectAnswerScoresFormatOneEquationOneAndTotalTwo()
    {
        var response = await service.Client.ScoreAsync(Score(Completion("job-1/0", Correct)));

        var score = Assert.Single(response.Scores);
        Assert.Equal("job-1/0", score.Id);
        AssertRewards(score, ("format", 1.0), ("equation", 1.0));
        Assert.Equal(2.0, score.Total);
        Assert.Equal("correct", score.Verdict);
    }

    [Fact]
    public async Task EachRecordIsScoredByItsOwnTasksFunctionsInOneRequest()
    {
        var nearest = new Completion
        {
            Id = "n", Text = Correct, // 3*5+7 = 22 is 78 from 100; 3*5*7 = 105, 5 from it, is as close as [3, 5, 7] come
            Record = new TaskRecord { Task = "countdown-nearest", FieldsJson = """{"nums": [3, 5, 7], "target": 100}""" },
        };
        var response = await service.Client.ScoreAsync(Score(Completion("c", Correct), nearest));

        AssertRewards(response.Scores[0], ("format", 1.0), ("equation", 1.0));
        Assert.Equal("correct", response.Scores[0].Verdict);
        AssertRewards(response.Scores[1], ("format", 1.0), ("closeness", 1.0 / (1 + 78 - 5)));
        Assert.Equal("not_nearest", response.Scores[1].Verdict);
    }

    [Fact]
    public async Task AnUnknownTaskIsInvalidAndTheMessageListsTheKnownOnes()
    {
        var request = Score(new Completion { Id = "x", Text = Correct, Record = new TaskRecord { Task = "sql", FieldsJson = "{}" } });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await service.Client.ScoreAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("completions[0] (id 'x'): unknown task 'sql'; valid: countdown, countdown-nearest", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongValueScoresEquationZeroWithVerdictWrongValue()
    {
        var response = await service.Client.ScoreAsync(Score(Completion("w", WrongValue)));

        var score = Assert.Single(response.Scores);
        AssertRewards(score, ("format", 1.0), ("equation", 0.0));
        Assert.Equal(1.0, score.Total);
        Assert.Equal("wrong_value", score.Verdict);
    }

    [Fact]
    public async Task CustomWeightsAreAppliedInTheRequestedOrderWithEquationTinyZero()
    {
        var request = Score(Completion("right", Correct), Completion("wrong", WrongValue), Completion("none", "no tags"))
            .WithFunctions(("equation_tinyzero", 2.0), ("format", 0.5));

        var response = await service.Client.ScoreAsync(request);

        Assert.Equal(["right", "wrong", "none"], response.Scores.Select(s => s.Id));
        AssertRewards(response.Scores[0], ("equation_tinyzero", 1.0), ("format", 1.0));
        Assert.Equal(2.5, response.Scores[0].Total, 12);
        AssertRewards(response.Scores[1], ("equation_tinyzero", 0.1), ("format", 1.0));
        Assert.Equal(0.7, response.Scores[1].Total, 12);
        AssertRewards(response.Scores[2], ("equation_tinyzero", 0.0), ("format", 0.0));
        Assert.Equal(0.0, response.Scores[2].Total);
        Assert.Equal("no_answer", response.Scores[2].Verdict);
    }

    [Fact]
    public async Task EmptyBatchReturnsAnEmptyResponse()
    {
        var response = await service.Client.ScoreAsync(Score());

        Assert.Empty(response.Scores);
    }

    [Fact]
    public async Task ScoreStreamReturnsOneResponsePerMessageInOrder()
    {
        using var call = service.Client.ScoreStream();
        for (var message = 0; message < 5; message++)
        {
            var text = message % 2 == 0 ? Correct : WrongValue;
            await call.RequestStream.WriteAsync(
                StreamMessage(Completion($"m{message}/a", text), Completion($"m{message}/b", Correct)));
        }

        await call.RequestStream.CompleteAsync();
        var responses = await call.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.Equal(5, responses.Count);
        for (var message = 0; message < 5; message++)
        {
            Assert.Equal([$"m{message}/a", $"m{message}/b"], responses[message].Scores.Select(s => s.Id));
            Assert.Equal(message % 2 == 0 ? 2.0 : 1.0, responses[message].Scores[0].Total);
            Assert.Equal(2.0, responses[message].Scores[1].Total);
        }
    }

    [Fact]
    public async Task ScoreStreamAnswersEachMessageBeforeTheNextIsSent()
    {
        using var call = service.Client.ScoreStream();
        foreach (var id in new[] { "first", "second" })
        {
            await call.RequestStream.WriteAsync(StreamMessage(Completion(id, Correct)));
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(id, Assert.Single(call.ResponseStream.Current.Scores).Id);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
    }
}
