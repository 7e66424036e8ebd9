using System.Text.Json;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Countdown.Arithmetic;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Countdown.Solver;

namespace GrpoAspire.Samples.NearestReward;

/// <summary>
/// Scores countdown-nearest completions with this sample's own functions: <c>format</c> (the think/answer layout) and
/// <c>closeness</c>, which falls linearly from 1 at the closest value the numbers reach to 0 at 10 farther. The verdict
/// is <c>correct</c> for an answer as close as any. Bad input is INVALID_ARGUMENT naming the completion.
/// </summary>
public sealed class SampleRewardService(ILogger<SampleRewardService> logger) : RewardService.RewardServiceBase
{
    private const string Task = "countdown-nearest";
    private const int MaxCompletions = 4096;
    private const int MaxNumbers = 4;

    public override Task<ScoreResponse> Score(ScoreRequest request, ServerCallContext context)
    {
        if (request.Completions.Count > MaxCompletions)
        {
            throw Invalid($"at most {MaxCompletions} completions per call, got {request.Completions.Count}");
        }

        var functions = request.RewardFunctions.Count > 0
            ? request.RewardFunctions.Select(f => (f.Name, f.Weight)).ToArray()
            : [("format", 1.0), ("closeness", 1.0)];
        if (functions.FirstOrDefault(f => f.Name is not ("format" or "closeness")) is { Name: { } unknown })
        {
            throw Invalid($"unknown reward function '{unknown}'; this service has format, closeness");
        }

        var response = new ScoreResponse();
        foreach (var completion in request.Completions)
        {
            response.Scores.Add(ScoreOne(completion, functions));
        }

        logger.LogInformation("sample reward service: scored {Count} {Task} completions", request.Completions.Count, Task);
        return System.Threading.Tasks.Task.FromResult(response);
    }

    private static CompletionScore ScoreOne(Completion completion, (string Name, double Weight)[] functions)
    {
        var (nums, target) = Read(completion);
        var verdict = EquationVerdict.NoAnswer;
        var extra = double.PositiveInfinity;
        if (CompletionFormat.FindFirstAnswer(completion.Text) is { } range)
        {
            (verdict, var value) = EquationEvaluator.Value(completion.Text.AsSpan()[range], nums);
            if (verdict == EquationVerdict.Correct)
            {
                var distance = Rational.Abs(value - Rational.FromInteger(target));
                extra = System.Math.Max(0, (distance - CountdownSolver.NearestDistance(nums, target)).ToDouble());
            }
        }

        var score = new CompletionScore
        {
            Id = completion.Id,
            Verdict = verdict != EquationVerdict.Correct ? verdict.ToWireName() : extra == 0 ? "correct" : "not_nearest",
        };
        foreach (var (name, weight) in functions)
        {
            var value = name == "format"
                ? CompletionFormat.IsWellFormed(completion.Text) ? 1.0 : 0.0
                : System.Math.Max(0, 1 - (extra / 10));
            score.Rewards.Add(new Contracts.V1.RewardValue { Name = name, Value = value });
            score.Total += weight * value;
        }

        return score;
    }

    private static (long[] Nums, long Target) Read(Completion completion)
    {
        if (completion.Record is not { Task: Task } record)
        {
            throw Invalid($"completion '{completion.Id}': this service scores {Task} records only");
        }

        try
        {
            using var fields = JsonDocument.Parse(record.FieldsJson);
            var nums = fields.RootElement.GetProperty("nums").EnumerateArray().Select(n => n.GetInt64()).ToArray();
            var target = fields.RootElement.GetProperty("target").GetInt64();
            return nums.Length is > 0 and <= MaxNumbers && nums.All(n => n >= 0)
                ? (nums, target)
                : throw Invalid($"completion '{completion.Id}': 1 to {MaxNumbers} non-negative numbers, got {nums.Length}");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Invalid($"completion '{completion.Id}': the record needs \"nums\" (integers) and \"target\" (an integer)");
        }
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
