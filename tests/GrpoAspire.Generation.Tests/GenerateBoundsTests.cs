using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Generation.Options;
using GrpoAspire.Generation.Rollouts;
using GrpoAspire.Generation.Services;

namespace GrpoAspire.Generation.Tests;

/// <summary>The replica's bounds as pure logic: the model's context for jobs, and the admission of Generate calls.</summary>
public sealed class GenerateBoundsTests
{
    private static readonly GenerationOptions Settings = new() { MaxConcurrentGenerateCalls = 2, MaxGenerateTokensInFlight = 1000 };

    private static RolloutJob Job(int promptTokens, int maxNewTokens) => new()
    {
        JobId = "1/0", Step = 1, Incarnation = "trainer-1", NumGenerations = 2, PromptTokenIds = { Enumerable.Repeat(65, promptTokens) },
        Sampling = new SamplingSettings { Temperature = 1, TopP = 1, MaxNewTokens = maxNewTokens, EosTokenIds = { 258 } },
    };

    [Fact]
    public void AJobWhosePromptAndCompletionExceedTheContextIsRejectedNamingTheNumbers()
    {
        var problem = RolloutSampling.Problem(Job(2000, 100), new GenerationOptions(), vocabularySize: 320, contextLength: 2048);
        Assert.Equal(
            "job 1/0: prompt 2000 tokens + max_new_tokens 100 = 2100 exceeds the model's context of 2048 positions (max_position_embeddings)",
            problem);
    }

    [Fact]
    public void AJobThatFillsTheContextExactlyIsAccepted() =>
        Assert.Null(RolloutSampling.Problem(Job(2000, 48), new GenerationOptions(), vocabularySize: 320, contextLength: 2048));

    [Fact]
    public void OneCallMoreThanTheConcurrencyLimitIsRefusedNamingTheLimit()
    {
        var admission = new GenerateAdmission(Microsoft.Extensions.Options.Options.Create(Settings));
        using var first = admission.Enter(10);
        using var second = admission.Enter(10);

        var refused = Assert.Throws<RpcException>(() => admission.Enter(10));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("Generation:MaxConcurrentGenerateCalls) is 2", refused.Status.Detail, StringComparison.Ordinal);

        second.Dispose();
        admission.Enter(10).Dispose();
    }

    [Fact]
    public void RequestedTokensCountUntilTheirCallLeaves()
    {
        var admission = new GenerateAdmission(Microsoft.Extensions.Options.Options.Create(Settings));
        var first = admission.Enter(600);

        var refused = Assert.Throws<RpcException>(() => admission.Enter(401));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("401 requested tokens", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("with 600 in flight exceed the limit (Generation:MaxGenerateTokensInFlight) of 1000", refused.Status.Detail, StringComparison.Ordinal);
        admission.Enter(400).Dispose();

        // Leaving twice frees once: the limits cannot drift below what is really in flight.
        first.Dispose();
        first.Dispose();
        using var full = admission.Enter(1000);
        Assert.Throws<RpcException>(() => admission.Enter(1));
    }
}
