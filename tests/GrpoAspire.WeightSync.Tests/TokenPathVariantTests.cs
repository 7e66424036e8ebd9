using Google.Protobuf;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Qwen2;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>
/// ASP.NET Core routes gRPC paths case-insensitively and with a trailing slash: a guarded method reached by another
/// spelling of its path still needs the token, over a real Kestrel.
/// </summary>
public sealed class TokenPathVariantTests : IDisposable
{
    private static readonly Marshaller<GetWeightsRequest> Request = Marshallers.Create(r => r.ToByteArray(), GetWeightsRequest.Parser.ParseFrom);
    private static readonly Marshaller<WeightChunk> Chunk = Marshallers.Create(r => r.ToByteArray(), WeightChunk.Parser.ParseFrom);
    private readonly Qwen2ForCausalLM _trainer = TinyQwen.WithLargeEmbedding(seed: 1);
    private readonly WeightStore _store = new();

    public TokenPathVariantTests() => _store.Publish(WeightSnapshot.Capture(_trainer, version: 1));

    [Theory]
    [InlineData("grpo.v1.weightsservice", "getweights")]
    [InlineData("grpo.v1.WeightsService", "GetWeights/")]
    [InlineData("GRPO.V1.WEIGHTSSERVICE", "GETWEIGHTS/")]
    public async Task AnotherSpellingOfAGuardedPathStillNeedsTheToken(string service, string method)
    {
        await using var server = await WeightsServer.StartAsync(_store);
        var variant = new Method<GetWeightsRequest, WeightChunk>(MethodType.ServerStreaming, service, method, Request, Chunk);
        var invoker = server.Channel.CreateCallInvoker();

        var denied = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(invoker, variant, new Metadata()));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        // The spelling does reach GetWeights: with the token the weights stream.
        var chunks = await ReadAllAsync(invoker, variant, new Metadata { { "authorization", $"Bearer {WeightsServer.Token}" } });
        Assert.True(chunks > 1, $"{variant.FullName} streamed {chunks} chunks with the token");
    }

    private static async Task<int> ReadAllAsync(CallInvoker invoker, Method<GetWeightsRequest, WeightChunk> method, Metadata headers)
    {
        using var call = invoker.AsyncServerStreamingCall(method, null, new CallOptions(headers, DateTime.UtcNow.AddMinutes(1)), new GetWeightsRequest());
        var chunks = 0;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            chunks++;
        }

        return chunks;
    }

    public void Dispose() => _trainer.Dispose();
}
