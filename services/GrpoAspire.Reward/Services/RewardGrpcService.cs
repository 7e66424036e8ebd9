using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Reward.Scoring;

namespace GrpoAspire.Reward.Services;

/// <summary>The <c>grpo.v1.RewardService</c> endpoint: maps messages and delegates to the scoring service.</summary>
public sealed class RewardGrpcService(ScoreRequestMapper mapper, CompletionScoringService scoring)
    : RewardService.RewardServiceBase
{
    public override Task<ScoreResponse> Score(ScoreRequest request, ServerCallContext context)
    {
        var batch = mapper.ToBatch(request.Completions, request.RewardFunctions, place: string.Empty);
        var response = new ScoreResponse();
        response.Scores.Add(ScoreRequestMapper.ToScores(batch, scoring.Score(batch)));
        return Task.FromResult(response);
    }

    /// <summary>One response per request message, in order; a bad message ends the stream naming its index.</summary>
    public override async Task ScoreStream(
        IAsyncStreamReader<ScoreStreamRequest> requestStream,
        IServerStreamWriter<ScoreStreamResponse> responseStream,
        ServerCallContext context)
    {
        var index = 0;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            var batch = mapper.ToBatch(request.Completions, request.RewardFunctions, place: $"message {index}: ");
            var response = new ScoreStreamResponse();
            response.Scores.Add(ScoreRequestMapper.ToScores(batch, scoring.Score(batch)));
            await responseStream.WriteAsync(response, context.CancellationToken);
            index++;
        }
    }
}
