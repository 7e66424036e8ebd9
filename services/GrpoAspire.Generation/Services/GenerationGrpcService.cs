using System.Threading.Channels;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Generation.Options;
using GrpoAspire.Generation.Policy;
using GrpoAspire.Generation.Rollouts;
using GrpoAspire.Model.Sampling;
using Microsoft.Extensions.Options;

namespace GrpoAspire.Generation.Services;

/// <summary>
/// gRPC face of the replica: <c>Generate</c> streams completions as they finish; status tells the served version.
/// <c>Generate</c> needs the run's bearer token (<see cref="Extensions.GenerationServiceExtensions.GenerateMethod"/>), is
/// checked (INVALID_ARGUMENT), admitted within the replica's limits (RESOURCE_EXHAUSTED), and stops sampling at the next
/// decode step once its caller cancels or its deadline passes.
/// </summary>
internal sealed class GenerationGrpcService(
    PolicyHost policy, GenerationStatistics statistics, GenerateAdmission admission, IOptions<GenerationOptions> options)
    : GenerationService.GenerationServiceBase
{
    private const int MaxStopStrings = 16;
    private const int MaxStopStringLength = 256;

    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        var settings = options.Value;
        var parameters = Parameters(request, settings);
        var prompts = Prompts(request, settings, parameters.MaxNewTokens);
        using var admitted = admission.Enter((long)prompts.Length * request.N * (prompts.Max(p => p.Ids.Count) + parameters.MaxNewTokens));
        // Headers now: the caller learns that the call was admitted before it waits for the model's turn.
        await context.WriteResponseHeadersAsync(new Metadata());

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var finished = Channel.CreateUnbounded<(int Row, GeneratedSequence Sequence)>();
        var version = policy.Version;
        var sampling = policy.UseAsync((model, cancellation) =>
        {
            var expanded = prompts.SelectMany(p => Enumerable.Repeat(p.Ids, request.N)).ToArray();
            new Sampler(model, ids => policy.Tokenizer.Decode(ids), policy.Decode)
                .Generate(expanded, parameters, (row, sequence) => finished.Writer.TryWrite((row, sequence)), cancellation);
            version = policy.Version;
            return true;
        }, stop.Token);
        // Completed however sampling ends, also when it never got the model's turn.
        _ = sampling.ContinueWith(_ => finished.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        try
        {
            await foreach (var (row, sequence) in finished.Reader.ReadAllAsync(stop.Token))
            {
                await responseStream.WriteAsync(Response(prompts[row / request.N].Id, row % request.N, sequence, version), stop.Token);
            }

            await sampling;
        }
        finally
        {
            // However the call ended (cancelled, past its deadline, a failed write), sampling stops at its next decode
            // step, and the call leaves the limits only once it has: the model's turn is free again.
            await stop.CancelAsync();
            await sampling.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    public override async Task<GetGenerationStatusResponse> GetGenerationStatus(GetGenerationStatusRequest request, ServerCallContext context) => new()
    {
        Replica = options.Value.ReplicaName,
        PolicyVersion = policy.Version,
        WeightsChecksum = await policy.ChecksumAsync(context.CancellationToken),
        JobsCompleted = statistics.JobsCompleted,
        GroupsAppended = statistics.GroupsAppended,
        Model = policy.ModelPath,
    };

    private GenerateResponse Response(string promptId, int index, GeneratedSequence sequence, long version)
    {
        var response = new GenerateResponse
        {
            PromptId = promptId, Index = index, FinishReason = RolloutSampling.WireName(sequence.FinishReason),
            Text = policy.Tokenizer.Decode(sequence.TokenIds, skipSpecialTokens: true), PolicyVersion = version,
        };
        response.TokenIds.AddRange(sequence.TokenIds);
        response.Logprobs.AddRange(sequence.LogProbs);
        return response;
    }

    private (string Id, IReadOnlyList<int> Ids)[] Prompts(GenerateRequest request, GenerationOptions settings, int maxNewTokens)
    {
        if (request.Prompts.Count == 0)
        {
            throw Invalid("prompts: at least one prompt is needed");
        }

        if (request.N < 1 || request.N > settings.MaxGenerations)
        {
            throw Invalid($"n: {request.N} is outside 1..{settings.MaxGenerations}");
        }

        if ((long)request.Prompts.Count * request.N > settings.MaxBatchSequences)
        {
            throw Invalid($"prompts x n = {(long)request.Prompts.Count * request.N} exceeds the batch limit {settings.MaxBatchSequences}");
        }

        return request.Prompts.Select((p, i) =>
        {
            var id = p.Id is { Length: > 0 } given ? given : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (p.TokenIds.Count > 0 && p.Text.Length > 0)
            {
                throw Invalid($"prompts[{i}]: give token_ids or text, not both");
            }

            if (p.Text.Length > settings.MaxPromptTokens * 16)
            {
                throw Invalid($"prompts[{i}]: text longer than {settings.MaxPromptTokens * 16} characters");
            }

            IReadOnlyList<int> ids = p.TokenIds.Count > 0 ? p.TokenIds.ToArray() : policy.Tokenizer.Encode(p.Text);
            if (ids.Count == 0 || ids.Count > settings.MaxPromptTokens)
            {
                throw Invalid($"prompts[{i}]: {ids.Count} tokens; allowed 1..{settings.MaxPromptTokens}");
            }

            if (ids.Any(t => t < 0 || t >= policy.Tokenizer.VocabSize))
            {
                throw Invalid($"prompts[{i}]: a token id is outside the vocabulary (0..{policy.Tokenizer.VocabSize - 1})");
            }

            if (RolloutSampling.ContextProblem(ids.Count, maxNewTokens, policy.ContextLength) is { } tooLong)
            {
                throw Invalid($"prompts[{i}]: {tooLong}");
            }

            return (id, ids);
        }).ToArray();
    }

    private SamplingParams Parameters(GenerateRequest request, GenerationOptions settings)
    {
        var sampling = request.Sampling ?? new SamplingSettings { Temperature = 1.0, MaxNewTokens = 256 };
        if (sampling.MaxNewTokens < 1 || sampling.MaxNewTokens > settings.MaxNewTokens)
        {
            throw Invalid($"sampling.max_new_tokens: {sampling.MaxNewTokens} is outside 1..{settings.MaxNewTokens}");
        }

        if (request.Stop.Count > MaxStopStrings || request.Stop.Any(s => s.Length is 0 or > MaxStopStringLength))
        {
            throw Invalid($"stop: at most {MaxStopStrings} strings of 1..{MaxStopStringLength} characters");
        }

        var parameters = RolloutSampling.Parameters(sampling) with { StopStrings = request.Stop.ToArray() };
        if (parameters.EosTokenIds.Count == 0)
        {
            parameters = parameters with { EosTokenIds = [policy.Tokenizer.EosTokenId] };
        }

        try
        {
            parameters.Validate();
        }
        catch (ArgumentException e)
        {
            throw Invalid("sampling: " + e.Message);
        }

        return parameters;
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
