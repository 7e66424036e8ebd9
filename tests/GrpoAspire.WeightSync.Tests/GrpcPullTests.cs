using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Qwen2;
using static GrpoAspire.WeightSync.Tests.Streams;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>The trainer serves its snapshots over real gRPC; a replica pulls, verifies and applies them.</summary>
public sealed class GrpcPullTests : IDisposable
{
    private readonly Qwen2ForCausalLM _trainer = TinyQwen.WithLargeEmbedding(seed: 1);
    private readonly Qwen2ForCausalLM _replica = TinyQwen.WithLargeEmbedding(seed: 2);
    private readonly WeightStore _store = new();
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(1));

    private CancellationToken Deadline => _deadline.Token;

    [Fact]
    public async Task PulledLatestWeightsMakeTheReplicaIdenticalToTheTrainer()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store);
        Assert.NotEqual(WeightChecksum.Of(_trainer), WeightChecksum.Of(_replica));

        var weights = await server.Weights.PullAsync(version: 0, WeightsServer.Token, Deadline);
        var applied = WeightApplier.Apply(_replica, weights);

        Assert.Equal(1, applied);
        Assert.Equal(WeightChecksum.Of(_trainer), WeightChecksum.Of(_replica));
        Assert.Equal(TinyQwen.Logits(_trainer), TinyQwen.Logits(_replica));
    }

    [Fact]
    public async Task OlderRetainedVersionIsServedByNumberAfterANewerOneIsPublished()
    {
        var first = PublishTwoVersions(_store, _trainer);
        await using var server = await WeightsServer.StartAsync(_store);

        var older = await server.Weights.PullAsync(version: 1, WeightsServer.Token, Deadline);
        var latest = await server.Weights.PullAsync(version: 0, WeightsServer.Token, Deadline);

        Assert.Equal(1, older.Version);
        Assert.Equal(first, WeightChecksum.Of(older));
        Assert.Equal(2, latest.Version);
        Assert.Equal(WeightChecksum.Of(_trainer), WeightChecksum.Of(latest));
    }

    [Fact]
    public async Task PullWithoutATokenIsPermissionDenied()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Weights.PullAsync(version: 0, bearerToken: null, Deadline));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal(
            "/grpo.v1.WeightsService/GetWeights needs 'authorization: Bearer <token>' metadata; the call carried none",
            error.Status.Detail);
    }

    [Fact]
    public async Task PullWithAWrongTokenIsPermissionDenied()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Weights.PullAsync(version: 0, WeightsServer.Token + "x", Deadline));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("/grpo.v1.WeightsService/GetWeights: the bearer token is not valid", error.Status.Detail);
    }

    [Fact]
    public async Task GetWeightsInfoNeedsNoTokenAndDescribesTheLatestVersion()
    {
        var snapshot = WeightSnapshot.Capture(_trainer, version: 3);
        _store.Publish(snapshot);
        await using var server = await WeightsServer.StartAsync(_store);

        var info = await server.Client.GetWeightsInfoAsync(new GetWeightsInfoRequest());

        Assert.Equal(3, info.Version);
        Assert.Equal(snapshot.Tensors.Count, info.TensorCount);
        Assert.Equal(snapshot.TotalBytes, info.TotalBytes);
    }

    [Fact]
    public async Task GuardingTheWholeServiceAlsoGuardsGetWeightsInfo()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store, "grpo.v1.WeightsService");

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.GetWeightsInfoAsync(new GetWeightsInfoRequest()));
        var info = await server.Client.GetWeightsInfoAsync(
            new GetWeightsInfoRequest(), WeightsClient.AuthorizationHeaders(WeightsServer.Token));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal(1, info.Version);
    }

    [Fact]
    public async Task UnknownVersionIsNotFound()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 4));
        await using var server = await WeightsServer.StartAsync(_store);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Weights.PullAsync(version: 3, WeightsServer.Token, Deadline));
        var infoError = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.GetWeightsInfoAsync(new GetWeightsInfoRequest { Version = 9 }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("weights version 3 is not available; the latest is 4", error.Status.Detail);
        Assert.Equal(StatusCode.NotFound, infoError.StatusCode);
    }

    [Fact]
    public async Task NothingPublishedYetIsFailedPrecondition()
    {
        await using var server = await WeightsServer.StartAsync(_store);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Weights.PullAsync(version: 0, WeightsServer.Token, Deadline));
        var infoError = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.GetWeightsInfoAsync(new GetWeightsInfoRequest()));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("no weights have been published yet", error.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, infoError.StatusCode);
    }

    [Fact]
    public async Task NegativeVersionIsInvalidArgument()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.GetWeightsInfoAsync(new GetWeightsInfoRequest { Version = -1 }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task ReplicaLimitBelowTheVersionSizeFailsThePullAndLeavesTheModelAlone()
    {
        var snapshot = WeightSnapshot.Capture(_trainer, version: 1);
        _store.Publish(snapshot);
        await using var server = await WeightsServer.StartAsync(_store);
        var before = WeightChecksum.Of(_replica);
        var options = new WeightAssemblerOptions { MaxTotalBytes = snapshot.TotalBytes / 2 };

        var error = await Assert.ThrowsAsync<WeightStreamException>(() =>
            server.Weights.PullAsync(version: 0, WeightsServer.Token, options, Deadline));

        Assert.Contains($"more than the limit of {snapshot.TotalBytes / 2} bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, WeightChecksum.Of(_replica));
    }

    [Fact]
    public async Task ChunkOverTheReplicasLimitFailsThePullWithTheStreamRuleItBroke()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store);
        var options = new WeightAssemblerOptions { MaxChunkBytes = 1000 };

        var error = await Assert.ThrowsAsync<WeightStreamException>(() =>
            server.Weights.PullAsync(version: 0, WeightsServer.Token, options, Deadline));

        Assert.Contains("is over the limit of 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentPullsOnOneClientEachAssembleTheirOwnVersion()
    {
        var first = PublishTwoVersions(_store, _trainer);
        await using var server = await WeightsServer.StartAsync(_store);

        var pulls = Enumerable.Range(0, 6)
            .Select(i => Task.Run(() => server.Weights.PullAsync(version: 1 + (i % 2), WeightsServer.Token, Deadline)))
            .ToArray();
        var pulled = await Task.WhenAll(pulls);

        Assert.All(pulled, weights =>
            Assert.Equal(weights.Version == 1 ? first : WeightChecksum.Of(_trainer), WeightChecksum.Of(weights)));
        Assert.Equal([1, 2, 1, 2, 1, 2], pulled.Select(w => w.Version));
    }

    [Fact]
    public async Task CancelledPullStopsWithCancelled()
    {
        _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));
        await using var server = await WeightsServer.StartAsync(_store);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            server.Weights.PullAsync(version: 0, WeightsServer.Token, cancelled.Token));

        Assert.True(
            error is OperationCanceledException || error is RpcException { StatusCode: StatusCode.Cancelled },
            $"expected a cancellation, got {error}");
    }

    public void Dispose()
    {
        _trainer.Dispose();
        _replica.Dispose();
        _deadline.Dispose();
    }
}
