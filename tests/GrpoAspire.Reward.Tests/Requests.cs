using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Reward.Tests;

/// <summary>Requests for the task <c>[3, 5, 7] -> 22</c> and assertions on their answers.</summary>
internal static class Requests
{
    public const long Target = 22;
    public static readonly long[] Nums = [3, 5, 7];

    /// <summary>Well-formed (read after the "&lt;think&gt;" prefill) with a correct equation.</summary>
    public const string Correct = " 3*5 = 15, 15+7 = 22 </think>\n<answer>3 * 5 + 7</answer>";

    /// <summary>Well-formed, right numbers, value 8.</summary>
    public const string WrongValue = " close enough </think>\n<answer>3 * 5 - 7</answer>";

    public static Completion Completion(string id, string text, long target = Target, IEnumerable<long>? nums = null)
    {
        var fields = $$"""{"nums":[{{string.Join(",", nums ?? Nums)}}],"target":{{target}}}""";
        return new Completion { Id = id, Text = text, Record = new TaskRecord { Task = "countdown", FieldsJson = fields } };
    }

    public static ScoreRequest Score(params Completion[] completions)
    {
        var request = new ScoreRequest();
        request.Completions.Add(completions);
        return request;
    }

    public static ScoreRequest WithFunctions(this ScoreRequest request, params (string Name, double Weight)[] functions)
    {
        request.RewardFunctions.Add(functions.Select(f => new RewardWeight { Name = f.Name, Weight = f.Weight }));
        return request;
    }

    public static ScoreStreamRequest StreamMessage(params Completion[] completions)
    {
        var request = new ScoreStreamRequest();
        request.Completions.Add(completions);
        return request;
    }

    public static void AssertRewards(CompletionScore score, params (string Name, double Value)[] expected)
    {
        Assert.Equal(expected.Select(e => e.Name), score.Rewards.Select(r => r.Name));
        Assert.Equal(expected.Select(e => e.Value), score.Rewards.Select(r => r.Value));
    }

    /// <summary>The call fails with InvalidArgument and a message holding every key phrase.</summary>
    public static async Task<RpcException> AssertInvalidArgument(Func<Task> call, params string[] keyPhrases)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        foreach (var phrase in keyPhrases)
        {
            Assert.Contains(phrase, error.Status.Detail, StringComparison.Ordinal);
        }

        return error;
    }
}
