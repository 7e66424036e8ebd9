using Google.Protobuf;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.WeightSync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrpoAspire.EndToEnd.Tests;

/// <summary>A generation replica against a weight server that lies: it keeps serving what it had.</summary>
[Collection(nameof(EndToEnd))]
public sealed class WeightStreamTests
{
    [Fact]
    public async Task AWeightStreamWithABadChecksumIsRejectedAndTheReplicaKeepsItsVersion()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 1, saveSteps: 1));
        using var other = new Qwen2ForCausalLM(ModelResolver.RandomConfig("tiny"));
        other.InitializeWeights(99);
        var server = new LyingWeights { Snapshot = WeightSnapshot.Capture(other, 1), Corrupt = true };
        var address = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
        await using var app = await StartWeightServerAsync(server, address);
        var replica = await cluster.StartReplicaAsync("replica-a", trainerAddress: new Uri(address));
        var generation = cluster.GenerationClient(replica);
        var initial = await generation.GetGenerationStatusAsync(new GetGenerationStatusRequest());
        Assert.Equal(0, initial.PolicyVersion);

        var announcer = new WeightAnnouncer(cluster.Connection, new RunKeys(cluster.Run));
        await announcer.PublishAsync(1, address);
        await WaitUntilAsync(() => server.Served > 0 && replica.Log.Contains("not applied", StringComparison.Ordinal), TimeSpan.FromSeconds(30), replica);
        var after = await generation.GetGenerationStatusAsync(new GetGenerationStatusRequest());
        Assert.Equal(0, after.PolicyVersion);
        Assert.Equal(initial.WeightsChecksum, after.WeightsChecksum);
        Assert.Contains("digest mismatch", replica.Log, StringComparison.Ordinal);

        // The same server telling the truth: the replica takes the version, so the rejection above was the checksum.
        server.Snapshot = WeightSnapshot.Capture(other, 2);
        server.Corrupt = false;
        await announcer.PublishAsync(2, address);
        await WaitUntilAsync(async () => (await generation.GetGenerationStatusAsync(new GetGenerationStatusRequest())).PolicyVersion == 2, TimeSpan.FromSeconds(30), replica);
        Assert.Equal(WeightChecksum.Of(other), (await generation.GetGenerationStatusAsync(new GetGenerationStatusRequest())).WeightsChecksum);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, ServiceProcess replica) =>
        await WaitUntilAsync(() => Task.FromResult(condition()), timeout, replica);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, ServiceProcess replica)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met in {timeout.TotalSeconds} s:\n{replica.Log}");
            await Task.Delay(100);
        }
    }

    private static async Task<WebApplication> StartWeightServerAsync(LyingWeights service, string address)
    {
        // An empty content root: the test folder holds a service's appsettings.json, whose endpoints would win over UseUrls.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = Directory.CreateTempSubdirectory("grpo-weights-").FullName });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(address);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<LyingWeights>();
        await app.StartAsync();
        return app;
    }

    /// <summary>Streams a real snapshot, with one byte of the first tensor flipped while <see cref="Corrupt"/> is set.</summary>
    private sealed class LyingWeights : WeightsService.WeightsServiceBase
    {
        private int _served;

        public required WeightSnapshot Snapshot { get; set; }

        public bool Corrupt { get; set; }

        public int Served => _served;

        public override async Task GetWeights(GetWeightsRequest request, IServerStreamWriter<WeightChunk> responseStream, ServerCallContext context)
        {
            Interlocked.Increment(ref _served);
            var flipped = false;
            foreach (var chunk in WeightChunker.Chunks(Snapshot))
            {
                var sent = chunk;
                if (Corrupt && !flipped && chunk.Tensor is { } tensor)
                {
                    var bytes = tensor.Data.ToByteArray();
                    bytes[0] ^= 0x01;
                    sent = new WeightChunk { Tensor = new TensorChunk { TensorIndex = tensor.TensorIndex, Offset = tensor.Offset, Data = ByteString.CopyFrom(bytes) } };
                    flipped = true;
                }

                await responseStream.WriteAsync(sent, context.CancellationToken);
            }
        }
    }
}
