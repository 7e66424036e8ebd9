using Google.Protobuf;
using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Faults.Tests;

/// <summary>
/// Callers without the run's bearer token, against a real trainer whose one-step run is finished (its weights version 1
/// is served). Generate's token: <see cref="GenerateFaultTests"/>.
/// </summary>
public sealed class TokenTests(TokenTests.FinishedRun run) : IClassFixture<TokenTests.FinishedRun>
{
    private static readonly Metadata WithToken = new() { { "authorization", "Bearer " + Cluster.Token } };
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    [Fact]
    public async Task WeightAndControlCallsWithoutTheTokenAreRefused()
    {
        var cluster = run.Cluster;
        var weights = new WeightsService.WeightsServiceClient(cluster.Channel(cluster.Trainer!));
        var noToken = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = weights.GetWeights(new GetWeightsRequest { Version = 1 });
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.PermissionDenied, noToken.StatusCode);

        var wrongToken = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = weights.GetWeights(new GetWeightsRequest { Version = 1 }, new Metadata { { "authorization", "Bearer not-the-token" } });
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.PermissionDenied, wrongToken.StatusCode);

        var trainer = cluster.TrainerClient();
        var stop = await Assert.ThrowsAsync<RpcException>(async () => await trainer.StopTrainingAsync(new StopTrainingRequest()));
        Assert.Equal(StatusCode.PermissionDenied, stop.StatusCode);
        var checkpoint = await Assert.ThrowsAsync<RpcException>(async () => await trainer.RequestCheckpointAsync(new RequestCheckpointRequest()));
        Assert.Equal(StatusCode.PermissionDenied, checkpoint.StatusCode);
        var evaluation = await Assert.ThrowsAsync<RpcException>(async () =>
            await trainer.RequestEvaluationAsync(new RequestEvaluationRequest(), new Metadata { { "authorization", "Bearer not-the-token" } }));
        Assert.Equal(StatusCode.PermissionDenied, evaluation.StatusCode);

        // With the token, a control call after the run is answered, and refused with the reason.
        var late = await trainer.RequestEvaluationAsync(new RequestEvaluationRequest(), WithToken);
        Assert.False(late.Accepted);
        Assert.Equal("training is finished (step 1)", late.Reason);
        Assert.False((await trainer.StopTrainingAsync(new StopTrainingRequest(), WithToken)).Accepted);

        // The status is open, and the token opens the weights.
        Assert.Equal("finished", (await cluster.TrainerClient().GetTrainerStatusAsync(new GetTrainerStatusRequest())).Status);
        using var authorized = weights.GetWeights(new GetWeightsRequest { Version = 1 }, WithToken);
        Assert.True(await authorized.ResponseStream.MoveNext());
        Assert.NotNull(authorized.ResponseStream.Current.Manifest);
    }

    /// <summary>
    /// ASP.NET Core routes gRPC paths case-insensitively and with a trailing slash: every guarded method of the trainer,
    /// reached by such a spelling, still needs the token, and with it the spelling does reach the method.
    /// </summary>
    [Theory]
    [InlineData("grpo.v1.trainerservice", "stoptraining")]
    [InlineData("grpo.v1.TrainerService", "StopTraining/")]
    [InlineData("GRPO.V1.TRAINERSERVICE", "REQUESTCHECKPOINT/")]
    [InlineData("grpo.v1.trainerservice", "requestcheckpoint")]
    [InlineData("grpo.v1.TrainerService", "RequestEvaluation/")]
    [InlineData("grpo.v1.trainerservice", "requestevaluation")]
    [InlineData("grpo.v1.weightsservice", "getweights")]
    [InlineData("GRPO.V1.WEIGHTSSERVICE", "GETWEIGHTS/")]
    public async Task EveryGuardedTrainerMethodNeedsTheTokenUnderAnySpellingOfItsPath(string service, string method)
    {
        var invoker = run.Cluster.Channel(run.Cluster.Trainer!).CreateCallInvoker();
        var streaming = service.Equals("grpo.v1.WeightsService", StringComparison.OrdinalIgnoreCase);
        // Control requests are empty messages; GetWeights asks for the served version 1.
        var request = streaming ? new GetWeightsRequest { Version = 1 }.ToByteArray() : [];

        var denied = await Assert.ThrowsAsync<RpcException>(() => CallAsync(invoker, service, method, streaming, request, new Metadata()));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        var wrong = await Assert.ThrowsAsync<RpcException>(() =>
            CallAsync(invoker, service, method, streaming, request, new Metadata { { "authorization", "Bearer not-the-token" } }));
        Assert.Equal(StatusCode.PermissionDenied, wrong.StatusCode);

        // With the token the spelling reaches the method: a control call is answered (refused, the run being over), the weights stream.
        Assert.True(await CallAsync(invoker, service, method, streaming, request, WithToken) > 0, $"/{service}/{method} answered nothing with the token");
    }

    /// <summary>Calls /service/method with raw message bytes; the number of response messages.</summary>
    private static async Task<int> CallAsync(CallInvoker invoker, string service, string method, bool streaming, byte[] request, Metadata headers)
    {
        var options = new CallOptions(headers, DateTime.UtcNow.AddMinutes(1));
        if (!streaming)
        {
            await invoker.AsyncUnaryCall(new Method<byte[], byte[]>(MethodType.Unary, service, method, Bytes, Bytes), null, options, request);
            return 1;
        }

        using var call = invoker.AsyncServerStreamingCall(new Method<byte[], byte[]>(MethodType.ServerStreaming, service, method, Bytes, Bytes), null, options, request);
        var messages = 0;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            messages++;
        }

        return messages;
    }

    /// <summary>Redis, the reward service, a replica and a trainer whose one-step run has finished.</summary>
    public sealed class FinishedRun : IAsyncLifetime
    {
        internal Cluster Cluster { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 1, saveSteps: 1));
            await Cluster.StartTrainerAsync();
            await Cluster.StartReplicaAsync("replica-a");
            await Cluster.WaitForTrainerAsync(TimeSpan.FromMinutes(3), "finished");
        }

        public async Task DisposeAsync() => await Cluster.DisposeAsync();
    }
}
