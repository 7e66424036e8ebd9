using System.Diagnostics;
using Grpc.Core;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.WeightSync;
using static TorchSharp.torch;

namespace WeightSyncBench;

/// <summary>Seconds of each phase of one trainer -> replica sync.</summary>
/// <param name="CpuSeconds">User + system CPU time of the whole process (both sides) over the sync.</param>
/// <param name="CaptureCpuSeconds">The same over the capture alone.</param>
internal sealed record SyncTiming(double Capture, double Pull, double Apply, double Check, double CpuSeconds, double CaptureCpuSeconds)
{
    public double Total => Capture + Pull + Apply + Check;
}

/// <summary>
/// One sync as the services do it: the trainer captures and publishes version N (<c>TrainerWorker.Publish</c>), the
/// replica pulls it through <see cref="WeightsClient"/> (transfer, assembly, per-tensor digest verification), applies
/// it (<c>PolicyHost</c>) and compares the version's checksum with the trainer's.
/// </summary>
/// <param name="pullStreams">The clients a pull is split over, one stream each (<see cref="WeightsClient.PullAsync(IReadOnlyList{WeightsClient}, long, string?, WeightAssemblerOptions, CancellationToken)"/>).</param>
/// <param name="generatedClient">Pull through the generated client into <see cref="WeightAssembler.Add"/>, as before <see cref="WeightsClient"/> read chunks in place.</param>
internal sealed class SyncBench(
    Qwen2ForCausalLM trainer,
    Qwen2ForCausalLM replica,
    WeightStore store,
    WeightsHost host,
    Device device,
    bool pooled,
    IReadOnlyList<WeightsClient> pullStreams,
    bool generatedClient)
{
    private readonly WeightAssemblerOptions _pulling = new() { Buffers = pooled ? new WeightBufferPool() : null };

    public async Task<SyncTiming> RunAsync(long version, CancellationToken cancellationToken)
    {
        // A new version each time (as after an optimizer step), and the previous version's host copies collected
        // outside the timed region, so every repetition starts from the same heap.
        using (no_grad())
        {
            trainer.model.norm.weight.add_(0.125);
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var snapshot = WeightSnapshot.Capture(trainer, version);
        store.Publish(snapshot);
        var capture = Lap(watch);
        var captureCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;

        var weights = generatedClient
            ? await PullThroughGeneratedClientAsync(version, cancellationToken)
            : await WeightsClient.PullAsync(pullStreams, version, WeightsHost.Token, _pulling, cancellationToken);
        var pull = Lap(watch);

        WeightApplier.Apply(replica, weights);
        Synchronize(device);
        var apply = Lap(watch);

        if (WeightChecksum.Of(weights) != WeightChecksum.Of(snapshot))
        {
            throw new InvalidOperationException($"version {version}: the replica's checksum differs from the trainer's");
        }

        _pulling.Buffers?.Return(weights); // as the generation service's WeightFollower, once applied
        var check = Lap(watch);
        return new SyncTiming(capture, pull, apply, check, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, captureCpu);
    }

    private async Task<VerifiedWeights> PullThroughGeneratedClientAsync(long version, CancellationToken cancellationToken)
    {
        var assembler = new WeightAssembler(_pulling, version);
        using var call = host.Client.GetWeights(
            new GetWeightsRequest { Version = version }, WeightsClient.AuthorizationHeaders(WeightsHost.Token), cancellationToken: cancellationToken);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            assembler.Add(chunk);
        }

        return assembler.Complete();
    }

    /// <summary>Seconds to drain the latest version's stream through the generated client without assembling it: the gRPC transfer alone.</summary>
    public Task<(double Seconds, long Bytes)> TransferOnlyAsync(CancellationToken cancellationToken) =>
        TransferOnlyAsync(host.Client, cancellationToken);

    /// <summary>
    /// Seconds for <paramref name="connections"/> replicas' channels (one HTTP/2 connection each) to drain the latest
    /// version at once, and the bytes they received in all: how the loopback transport scales with connections.
    /// </summary>
    public async Task<(double Seconds, long Bytes)> ConcurrentTransfersAsync(int connections, CancellationToken cancellationToken)
    {
        var channels = Enumerable.Range(0, connections).Select(_ => WeightsHost.ReplicaChannel(host.Address)).ToArray();
        try
        {
            var clients = channels.Select(c => new WeightsService.WeightsServiceClient(c)).ToArray();
            await Task.WhenAll(clients.Select(c => c.GetWeightsInfoAsync(new GetWeightsInfoRequest(), WeightsClient.AuthorizationHeaders(WeightsHost.Token)).ResponseAsync)); // connected
            var watch = Stopwatch.StartNew();
            var drained = await Task.WhenAll(clients.Select(c => Task.Run(() => TransferOnlyAsync(c, cancellationToken), cancellationToken)));
            return (watch.Elapsed.TotalSeconds, drained.Sum(d => d.Bytes));
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private static async Task<(double Seconds, long Bytes)> TransferOnlyAsync(WeightsService.WeightsServiceClient client, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        long bytes = 0;
        using var call = client.GetWeights(
            new GetWeightsRequest(), WeightsClient.AuthorizationHeaders(WeightsHost.Token), cancellationToken: cancellationToken);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            bytes += chunk.Tensor?.Data.Length ?? 0;
        }

        return (watch.Elapsed.TotalSeconds, bytes);
    }

    /// <summary>
    /// Seconds for one pass of the weights' digest (XXH128) over every tensor of the latest version, on one thread, and
    /// of SHA-256, the digest before it, for comparison.
    /// </summary>
    public (double Digest, double Sha256) HashOnce()
    {
        var snapshot = store.Latest ?? throw new InvalidOperationException("nothing published yet");
        var watch = Stopwatch.StartNew();
        foreach (var tensor in snapshot.Tensors)
        {
            tensor.Data.Digest();
        }

        var digest = watch.Elapsed.TotalSeconds;
        watch.Restart();
        using var sha256 = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var segment in snapshot.Tensors.SelectMany(t => t.Data.Segments))
        {
            sha256.AppendData(segment.Span);
        }

        sha256.GetHashAndReset();
        return (digest, watch.Elapsed.TotalSeconds);
    }

    /// <summary>The replica's own weights (not the pulled copies) hash like the trainer's.</summary>
    public bool ReplicaMatchesTrainer() => WeightChecksum.Of(replica) == WeightChecksum.Of(trainer);

    private static double Lap(Stopwatch watch)
    {
        var seconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        return seconds;
    }

    private static void Synchronize(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }
}
