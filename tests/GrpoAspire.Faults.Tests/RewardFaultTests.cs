using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using GrpoAspire.Contracts.V1;
using Xunit.Abstractions;

namespace GrpoAspire.Faults.Tests;

/// <summary>Hostile callers against a real reward service process: floods of large messages, garbage bytes.</summary>
public sealed class RewardFaultTests(ITestOutputHelper output)
{
    /// <summary>The reward Deployment's memory limit in deploy/k8s/base/reward.yaml.</summary>
    private const long KubernetesMemoryLimit = 512L * 1024 * 1024;

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);
    private static readonly Method<byte[], byte[]> RawScore = new(MethodType.Unary, "grpo.v1.RewardService", "Score", Bytes, Bytes);
    private static readonly Method<byte[], byte[]> RawScoreStream = new(MethodType.DuplexStreaming, "grpo.v1.RewardService", "ScoreStream", Bytes, Bytes);

    [Fact]
    public async Task AFloodOfLargeMessagesStaysUnderTheMemoryLimitAndTheRestAreRefusedWithResourceExhausted()
    {
        await using var reward = await ServiceProcess.StartAsync("reward", "GrpoAspire.Reward", new Dictionary<string, string>());
        // ~60 MB: 1000 completions of 60 KB, under the 64 MiB receive cap, each with its own connection as 40 callers would.
        var payload = LargeRequest(completions: 1000, textBytes: 60_000);
        var calls = Enumerable.Range(0, 40).Select(_ => CallRawAsync(reward.GrpcAddress, RawScore, payload)).ToArray();
        var outcomes = await Task.WhenAll(calls);

        var peak = reward.PeakResidentBytes();
        var ok = outcomes.Count(o => o.Code == StatusCode.OK);
        var refused = outcomes.Where(o => o.Code == StatusCode.ResourceExhausted).ToArray();
        output.WriteLine($"40 x {payload.Length} bytes: {ok} scored, {refused.Length} refused, peak RSS {peak / (1024 * 1024)} MiB");
        Assert.True(peak < KubernetesMemoryLimit, $"peak RSS {peak / (1024 * 1024)} MiB reached the 512 MiB limit\n{reward.Log}");
        Assert.True(ok > 0, $"no call was scored: {string.Join("; ", outcomes.Select(o => o.Code + " " + o.Detail).Distinct())}");
        Assert.True(ok + refused.Length == outcomes.Length, $"calls ended otherwise: {string.Join("; ", outcomes.Select(o => o.Code + " " + o.Detail).Distinct())}");
        Assert.NotEmpty(refused);
        Assert.All(refused, o => Assert.Contains("Reward:MaxInFlightMessageBytes", o.Detail, StringComparison.Ordinal));

        // Still healthy: a normal request is scored.
        using var channel = GrpcChannel.ForAddress(reward.GrpcAddress);
        var response = await new RewardService.RewardServiceClient(channel).ScoreAsync(SmallRequest(3));
        Assert.Equal(3, response.Scores.Count);
        Assert.Equal("correct", response.Scores[0].EquationVerdict);
    }

    /// <summary>Completions of ~100 bytes, as a GRPO step sends them: the budget must not refuse any.</summary>
    [Fact]
    public async Task FiftyConcurrentStreamsOfSmallMessagesAreAllScored()
    {
        await using var reward = await ServiceProcess.StartAsync("reward", "GrpoAspire.Reward", new Dictionary<string, string>());
        using var channel = GrpcChannel.ForAddress(reward.GrpcAddress);
        var client = new RewardService.RewardServiceClient(channel);
        var streams = Enumerable.Range(0, 50).Select(async s =>
        {
            using var call = client.ScoreStream(deadline: DateTime.UtcNow.AddMinutes(2));
            var message = new ScoreStreamRequest();
            message.Completions.AddRange(SmallRequest(1000).Completions);
            var scored = 0;
            var reader = Task.Run(async () =>
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync())
                {
                    scored += response.Scores.Count;
                }
            });
            for (var i = 0; i < 10; i++)
            {
                await call.RequestStream.WriteAsync(message);
            }

            await call.RequestStream.CompleteAsync();
            await reader;
            return scored;
        }).ToArray();

        var scored = await Task.WhenAll(streams);
        output.WriteLine($"50 streams x 10 x 1000 completions: peak RSS {reward.PeakResidentBytes() / (1024 * 1024)} MiB");
        Assert.All(scored, count => Assert.Equal(10_000, count));
    }

    [Fact]
    public async Task GarbageBytesAreInvalidArgumentWithoutExceptionText()
    {
        await using var reward = await ServiceProcess.StartAsync("reward", "GrpoAspire.Reward", new Dictionary<string, string>());
        // A field with wire type 7, which protobuf does not have.
        var garbage = Enumerable.Repeat((byte)0xFF, 64).ToArray();

        var unary = await CallRawAsync(reward.GrpcAddress, RawScore, garbage);
        var stream = await StreamRawAsync(reward.GrpcAddress, garbage);
        foreach (var (code, detail) in new[] { unary, stream })
        {
            Assert.Equal(StatusCode.InvalidArgument, code);
            Assert.Contains("grpo.v1.", detail, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", detail, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(" at ", detail, StringComparison.Ordinal);
        }

        Assert.Contains("InvalidProtocolBufferException", reward.Log, StringComparison.Ordinal);
    }

    /// <summary>
    /// A reward service that dies mid-run (SIGKILL, as an OOM kill) and comes back on the same address: the replicas'
    /// Score calls fail while it is down, their jobs stay pending and are served again, and the run finishes with every
    /// step once.
    /// </summary>
    [Fact]
    public async Task ARewardServiceKilledMidRunAndRestartedLosesNoStep()
    {
        await using var cluster = await Cluster.StartAsync(Recipes.Tiny(maxSteps: 4, saveSteps: 4, completionTokens: 32, prompts: 4, generations: 4));
        await cluster.StartTrainerAsync();
        var replica = await cluster.StartReplicaAsync("replica-a");
        await cluster.WaitForTrainerStepAsync(1, TimeSpan.FromMinutes(2));

        cluster.Reward!.Kill();
        // Long enough for the replica to call the dead service and fail at least once.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!replica.Log.Contains("serving jobs failed", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await cluster.StartRewardAsync();
        output.WriteLine($"reward restarted; replica log:\n{replica.Log}");

        var status = await cluster.WaitForTrainerAsync(TimeSpan.FromMinutes(3), "finished");
        Assert.Equal(4, status.Step);
        Assert.Equal([1, 2, 3, 4], cluster.MetricSteps());
        Assert.Contains("serving jobs failed", replica.Log, StringComparison.Ordinal);
    }

    private static async Task<(StatusCode Code, string Detail)> CallRawAsync(Uri address, Method<byte[], byte[]> method, byte[] payload)
    {
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxSendMessageSize = null });
        try
        {
            await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddMinutes(1)), payload);
            return (StatusCode.OK, string.Empty);
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail);
        }
    }

    private static async Task<(StatusCode Code, string Detail)> StreamRawAsync(Uri address, byte[] payload)
    {
        using var channel = GrpcChannel.ForAddress(address);
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(RawScoreStream, null, new CallOptions(deadline: DateTime.UtcNow.AddMinutes(1)));
        try
        {
            await call.RequestStream.WriteAsync(payload);
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }

            return (StatusCode.OK, string.Empty);
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail);
        }
    }

    private static byte[] LargeRequest(int completions, int textBytes)
    {
        var request = new ScoreRequest();
        var text = "<think>" + new string('x', textBytes - 7);
        for (var i = 0; i < completions; i++)
        {
            request.Completions.Add(new Completion { Id = $"c{i}", Text = text, Nums = { 1, 2, 3 }, Target = 6 });
        }

        return request.ToByteArray();
    }

    private static ScoreRequest SmallRequest(int completions)
    {
        var request = new ScoreRequest();
        for (var i = 0; i < completions; i++)
        {
            request.Completions.Add(new Completion
            {
                Id = $"job-{i}#0", Text = " 1 plus 2 plus 3 makes 6</think>\n<answer>1 + 2 + 3</answer>", Nums = { 1, 2, 3 }, Target = 6,
            });
        }

        return request;
    }
}
