using Grpc.Core;
using Grpc.Net.Client;
using GrpoAspire.Contracts.V1;

namespace GrpoAspire.AppHost;

/// <summary>The AppHost's calls to the trainer's gRPC endpoint (status open; control with the run's bearer token).</summary>
internal sealed class TrainerClient(EndpointReference grpc, ParameterResource token)
{
    public async Task<GetTrainerStatusResponse> StatusAsync(CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(grpc.Url);
        return await new TrainerService.TrainerServiceClient(channel).GetTrainerStatusAsync(new GetTrainerStatusRequest(), cancellationToken: cancellationToken);
    }

    /// <summary>The trainer's starting model folder, once it has resolved it (a replica loads it before weights version 1).</summary>
    public async Task<string> StartingModelAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = await StatusAsync(cancellationToken);
            if (status.ModelFolder.Length > 0)
            {
                return status.ModelFolder;
            }

            if (status.Status == "failed")
            {
                throw new InvalidOperationException($"the trainer failed before loading its model: {status.Error}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>Calls a control RPC with the bearer token: <paramref name="call"/> gets the client and the call options.</summary>
    public async Task<T> ControlAsync<T>(Func<TrainerService.TrainerServiceClient, CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        var headers = new Metadata { { "authorization", $"Bearer {await token.GetValueAsync(cancellationToken)}" } };
        using var channel = GrpcChannel.ForAddress(grpc.Url);
        return await call(new TrainerService.TrainerServiceClient(channel), new CallOptions(headers, cancellationToken: cancellationToken));
    }
}
