using Grpc.Core;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Faults.Tests;

/// <summary>Callers without the run's bearer token, against the real services.</summary>
public sealed class TokenTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task WeightAndControlCallsWithoutTheTokenAreRefused()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 1, saveSteps: 1));
        await cluster.StartTrainerAsync();
        await cluster.StartReplicaAsync("replica-a");
        await cluster.WaitForTrainerAsync(RunTimeout, "finished");

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
        var token = new Metadata { { "authorization", "Bearer " + Cluster.Token } };
        var late = await trainer.RequestEvaluationAsync(new RequestEvaluationRequest(), token);
        Assert.False(late.Accepted);
        Assert.Equal("training is finished (step 1)", late.Reason);
        Assert.False((await trainer.StopTrainingAsync(new StopTrainingRequest(), token)).Accepted);

        // The status is open, and the token opens the weights.
        Assert.Equal("finished", (await cluster.TrainerClient().GetTrainerStatusAsync(new GetTrainerStatusRequest())).Status);
        using var authorized = weights.GetWeights(new GetWeightsRequest { Version = 1 }, new Metadata { { "authorization", "Bearer " + Cluster.Token } });
        Assert.True(await authorized.ResponseStream.MoveNext());
        Assert.NotNull(authorized.ResponseStream.Current.Manifest);
    }
}
