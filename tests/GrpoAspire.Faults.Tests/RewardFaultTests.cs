using System.Buffers.Binary;
using System.Text;
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

    private static readonly TaskRecord OneTwoThree = new() { Task = "countdown", FieldsJson = """{"nums":[1,2,3],"target":6}""" };

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
        Assert.Equal("correct", response.Scores[0].Verdict);
    }

    /// <summary>
    /// A refused caller whose client is starved keeps sending what the HTTP/2 window allows after the refusal and reads
    /// the answer late. Kestrel forgets a finished stream 5 s after it ends and treats a later frame for it as a
    /// connection error, which resets the connection and, with it, the unread status: under load, such callers saw
    /// UNAVAILABLE instead of RESOURCE_EXHAUSTED.
    /// </summary>
    [Fact]
    public async Task ARefusedCallerThatSendsAndReadsLateStillGetsItsStatusOnALiveConnection()
    {
        await using var reward = await ServiceProcess.StartAsync("reward", "GrpoAspire.Reward", new Dictionary<string, string>());
        using var client = await RawHttp2Client.ConnectAsync(reward.GrpcAddress);
        await client.WriteGrpcHeadersAsync(1, reward.GrpcAddress, "/grpo.v1.RewardService/Score");
        // A prefix announcing a message over the limit, refused as soon as it is read; then the start of the message.
        var first = new byte[RawHttp2Client.MaxFramePayload];
        BinaryPrimitives.WriteUInt32BigEndian(first.AsSpan(1), uint.MaxValue);
        await client.WriteFrameAsync(RawHttp2Client.Data, 0, 1, first);

        await Task.Delay(TimeSpan.FromSeconds(6));
        await client.WriteFrameAsync(RawHttp2Client.Data, 0, 1, new byte[RawHttp2Client.MaxFramePayload]);
        var frames = await ReadFramesAsync(client);

        Assert.DoesNotContain(frames, f => f.Type == RawHttp2Client.GoAway);
        var status = Assert.Single(frames, f => f.Type == RawHttp2Client.Headers && f.StreamId == 1);
        Assert.Equal(RawHttp2Client.EndStream, status.Flags & RawHttp2Client.EndStream);
        Assert.Contains("exceeds the reward service's limit", Encoding.ASCII.GetString(status.Payload), StringComparison.Ordinal);

        // The caller cancels the rest of its message, as a gRPC client does on the status; the connection still answers.
        await client.WriteFrameAsync(RawHttp2Client.RstStream, 0, 1, [0, 0, 0, 8]);
        await client.WriteFrameAsync(RawHttp2Client.Ping, 0, 0, new byte[8]);
        frames = await ReadFramesAsync(client);
        Assert.Contains(frames, f => f.Type == RawHttp2Client.Ping && f.Flags == RawHttp2Client.Ack);
        Assert.DoesNotContain(frames, f => f.Type == RawHttp2Client.GoAway);
    }

    /// <summary>
    /// A starved caller whose message starts more than 5 s after its headers. Kestrel's minimum request body rate (240 B/s
    /// after 5 s) would abort the whole HTTP/2 connection, the caller's other calls with it; the reward service bounds
    /// that wait with Reward:MessageReceiveSeconds instead, so the late message is scored.
    /// </summary>
    [Fact]
    public async Task ACallerWhoseMessageStartsLateIsScoredOnALiveConnection()
    {
        await using var reward = await ServiceProcess.StartAsync("reward", "GrpoAspire.Reward", new Dictionary<string, string>());
        using var client = await RawHttp2Client.ConnectAsync(reward.GrpcAddress);
        await client.WriteGrpcHeadersAsync(1, reward.GrpcAddress, "/grpo.v1.RewardService/Score");

        await Task.Delay(TimeSpan.FromSeconds(7));
        var message = SmallRequest(1).ToByteArray();
        var data = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(1), (uint)message.Length);
        message.CopyTo(data, 5);
        await client.WriteFrameAsync(RawHttp2Client.Data, RawHttp2Client.EndStream, 1, data);
        var frames = await ReadFramesAsync(client);

        Assert.DoesNotContain(frames, f => f.Type == RawHttp2Client.GoAway);
        var response = Assert.Single(frames, f => f.Type == RawHttp2Client.Data && f.StreamId == 1 && f.Payload.Length > 5);
        var scored = ScoreResponse.Parser.ParseFrom(response.Payload.AsSpan(5).ToArray());
        Assert.Equal("correct", Assert.Single(scored.Scores).Verdict);
    }

    /// <summary>A unary call whose message never comes holds its stream only until Reward:MessageReceiveSeconds.</summary>
    [Fact]
    public async Task AUnaryCallWhoseMessageNeverComesEndsAfterTheReceiveTimeout()
    {
        await using var reward = await ServiceProcess.StartAsync("reward", "GrpoAspire.Reward", new Dictionary<string, string>
        {
            ["Reward__MessageReceiveSeconds"] = "2",
        });
        using var client = await RawHttp2Client.ConnectAsync(reward.GrpcAddress);
        await client.WriteGrpcHeadersAsync(1, reward.GrpcAddress, "/grpo.v1.RewardService/Score");

        var frames = await ReadFramesAsync(client, TimeSpan.FromSeconds(5));

        var status = Assert.Single(frames, f => f.Type == RawHttp2Client.Headers && f.StreamId == 1);
        Assert.Contains("the call's message did not arrive within Reward:MessageReceiveSeconds 2", Encoding.ASCII.GetString(status.Payload), StringComparison.Ordinal);
        Assert.DoesNotContain(frames, f => f.Type == RawHttp2Client.GoAway);
    }

    /// <summary>Frames until none comes for <paramref name="quiet"/> (2 s by default) or the connection ends.</summary>
    private static async Task<List<(byte Type, byte Flags, int StreamId, byte[] Payload)>> ReadFramesAsync(RawHttp2Client client, TimeSpan? quiet = null)
    {
        var frames = new List<(byte Type, byte Flags, int StreamId, byte[] Payload)>();
        while (await client.ReadFrameAsync(quiet ?? TimeSpan.FromSeconds(2)) is { } frame)
        {
            frames.Add(frame);
        }

        return frames;
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
    /// A caller that announces the largest message and then sends nothing holds the whole in-flight budget, so others
    /// are refused, but only until <c>Reward:MessageReceiveSeconds</c> cuts it off.
    /// </summary>
    [Fact]
    public async Task ACallerThatStallsMidMessageHoldsTheBudgetOnlyUntilTheReceiveTimeout()
    {
        // A budget of exactly one largest message (64 MiB), and 3 s to receive one.
        await using var reward = await ServiceProcess.StartAsync("reward", "GrpoAspire.Reward", new Dictionary<string, string>
        {
            ["Reward__MaxInFlightMessageBytes"] = "67108864", ["Reward__MessageReceiveSeconds"] = "3",
        });
        using var http = new HttpClient();
        var stall = new TaskCompletionSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(reward.GrpcAddress, "/grpo.v1.RewardService/ScoreStream"))
        {
            Version = System.Net.HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = new StalledMessage(stall.Task),
        };
        request.Headers.TE.ParseAdd("trailers");
        var stalled = http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        using var channel = GrpcChannel.ForAddress(reward.GrpcAddress);
        var client = new RewardService.RewardServiceClient(channel);
        // No other call until the stalled one holds the budget: one in flight would leave it no room.
        await Task.Delay(1000);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RpcException? refused = null;
        while (refused is null && clock.Elapsed < TimeSpan.FromSeconds(2))
        {
            try
            {
                await client.ScoreAsync(SmallRequest(1));
                await Task.Delay(20);
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }

        Assert.True(refused?.StatusCode == StatusCode.ResourceExhausted, $"{refused?.Status}, stalled call {stalled.Status}: {stalled.Exception}\n{reward.Log}");
        Assert.Contains("Reward:MaxInFlightMessageBytes 67108864", refused!.Status.Detail, StringComparison.Ordinal);

        ScoreResponse? scored = null;
        while (scored is null && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                scored = await client.ScoreAsync(SmallRequest(1));
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                await Task.Delay(100);
            }
        }

        output.WriteLine($"scored again after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.NotNull(scored);
        stall.SetResult();
        using var response = await stalled;
        Assert.Equal("8", response.Headers.TryGetValues("grpc-status", out var codes) ? codes.Single() : null);
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

    /// <summary>A gRPC body that announces one uncompressed 64 MiB message and sends none of it until released.</summary>
    private sealed class StalledMessage : HttpContent
    {
        private readonly Task _release;

        public StalledMessage(Task release)
        {
            _release = release;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(new byte[] { 0, 4, 0, 0, 0 });
            await stream.FlushAsync();
            await _release;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static byte[] LargeRequest(int completions, int textBytes)
    {
        var request = new ScoreRequest();
        var text = "<think>" + new string('x', textBytes - 7);
        for (var i = 0; i < completions; i++)
        {
            request.Completions.Add(new Completion { Id = $"c{i}", Text = text, Record = OneTwoThree });
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
                Id = $"job-{i}#0", Text = " 1 plus 2 plus 3 makes 6</think>\n<answer>1 + 2 + 3</answer>", Record = OneTwoThree,
            });
        }

        return request;
    }
}
