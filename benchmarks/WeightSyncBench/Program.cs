using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using GrpoAspire.Model;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.WeightSync;
using ModelBench;
using WeightSyncBench;

// weight-sync-bench [--shape 0.5B|3B|small] [--device cpu|cuda] [--dtype bfloat16|float32] [--repeats 5] [--output FILE]
//                   [--transfer-repeats 3] [--client-window-kb N] [--server-buffer-kb N] (HTTP/2 experiments)
//                   [--connections 1,2,4] (the transport's aggregate rate with that many replica connections at once)
//                   [--no-buffer-pool] (each pull into new buffers, as before WeightBufferPool)
//                   [--generated-client] (pull through the generated client, as before WeightsClient read chunks in place)
//                   [--pull-streams N] (each pull split over N streams, each on its own connection)
var options = Args.Parse(args);
var shape = options.Get("shape", "0.5B");
var device = TorchRuntime.ParseDevice(options.Get("device", "cpu"));
var dtype = TorchRuntime.ParseDtype(options.Get("dtype", "bfloat16"));
var repeats = int.Parse(options.Get("repeats", "5"), CultureInfo.InvariantCulture);
var transferRepeats = int.Parse(options.Get("transfer-repeats", "3"), CultureInfo.InvariantCulture);
int? clientWindow = options.Has("client-window-kb") ? int.Parse(options.Get("client-window-kb", "0"), CultureInfo.InvariantCulture) * 1024 : null;
long? serverBuffer = options.Has("server-buffer-kb") ? long.Parse(options.Get("server-buffer-kb", "0"), CultureInfo.InvariantCulture) * 1024 : null;
using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(30));

var config = Shapes.Get(shape).Validated();
var build = Stopwatch.StartNew();
using var trainer = new Qwen2ForCausalLM(config, device, dtype);
trainer.InitializeWeights(1);
using var replica = new Qwen2ForCausalLM(config, device, dtype);
replica.InitializeWeights(2);
Console.Error.WriteLine($"{shape}: 2 x {trainer.ParameterCount():N0} parameters on {device} in {dtype} ({build.Elapsed.TotalSeconds:F1}s to build)");

// One retained version: two 0.5B host copies plus the pulled one would be 3 GB; the trainer keeps 2 (KeepVersions).
var store = new WeightStore(retainedVersions: 1);
await using var host = await WeightsHost.StartAsync(store, clientWindow, serverBuffer);
var pooled = !options.Has("no-buffer-pool");
var generatedClient = options.Has("generated-client");
var pullStreams = options.PositiveInt("pull-streams", 1);
if (generatedClient && pullStreams > 1)
{
    throw new ArgumentException("--generated-client pulls over one stream; leave out --pull-streams");
}

// One channel (so one HTTP/2 connection) per stream, as the generation service's Generation:WeightStreams does.
var extraChannels = Enumerable.Range(1, pullStreams - 1).Select(_ => WeightsHost.ReplicaChannel(host.Address, clientWindow)).ToList();
IReadOnlyList<WeightsClient> streamClients = [host.Weights, .. extraChannels.Select(c => new WeightsClient(c))];
var bench = new SyncBench(trainer, replica, store, host, device, pooled, streamClients, generatedClient);

var timings = new List<SyncTiming>();
for (var version = 1; version <= repeats + 1; version++)
{
    var timing = await bench.RunAsync(version, deadline.Token);
    timings.Add(timing);
    Console.Error.WriteLine(
        $"{(version == 1 ? "warm-up" : $"run {version - 1}")}: capture {timing.Capture:F3}s  pull {timing.Pull:F3}s  "
        + $"apply {timing.Apply:F3}s  check {timing.Check:F3}s  total {timing.Total:F3}s  (process CPU {timing.CpuSeconds:F2}s, capture {timing.CaptureCpuSeconds:F2}s)");
}

if (!bench.ReplicaMatchesTrainer())
{
    throw new InvalidOperationException("after the last sync the replica's weights differ from the trainer's");
}

var transfers = new List<double>();
long transferBytes = 0;
for (var i = 0; i < transferRepeats; i++)
{
    (var seconds, transferBytes) = await bench.TransferOnlyAsync(deadline.Token);
    transfers.Add(seconds);
    Console.Error.WriteLine($"transfer only: {seconds:F3}s");
}

var transferSeconds = Median(transfers);

// --connections 1,2,4: that many channels drain the version at once, transferRepeats times each (median aggregate GB/s).
var scaling = new Dictionary<string, double>();
foreach (var connections in options.Get("connections", string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse))
{
    var rates = new List<double>();
    for (var i = 0; i < transferRepeats; i++)
    {
        var (seconds, bytes) = await bench.ConcurrentTransfersAsync(connections, deadline.Token);
        rates.Add(bytes / seconds / 1e9);
        Console.Error.WriteLine($"{connections} connection(s) at once: {bytes:N0} bytes in {seconds:F3}s, {rates[^1]:F2} GB/s");
    }

    scaling[connections.ToString(CultureInfo.InvariantCulture)] = Median(rates);
}
var hashSeconds = bench.HashOnce();
var snapshot = store.Latest!;
var measured = timings.Skip(1).ToList();
var results = new Dictionary<string, object>
{
    ["benchmark"] = "weight sync trainer -> replica over loopback gRPC (WeightsGrpcService, WeightsClient)",
    ["shape"] = shape,
    ["parameters"] = trainer.ParameterCount(),
    ["device"] = device.ToString(),
    ["dtype"] = dtype.ToString(),
    ["tensors"] = snapshot.Tensors.Count,
    ["bytes"] = snapshot.TotalBytes,
    ["repeats"] = measured.Count,
    ["replica_buffer_pool"] = pooled,
    ["replica_client"] = generatedClient ? "generated" : "WeightsClient (chunks read in place)",
    ["pull_streams"] = pullStreams,
    ["machine"] = $"{Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.OSDescription}",
    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    ["warm_up_s"] = Phases(timings[0]),
    ["median_s"] = new Dictionary<string, double>
    {
        ["capture"] = Median(measured.Select(t => t.Capture)),
        ["pull"] = Median(measured.Select(t => t.Pull)),
        ["apply"] = Median(measured.Select(t => t.Apply)),
        ["check"] = Median(measured.Select(t => t.Check)),
        ["total"] = Median(measured.Select(t => t.Total)),
        ["process_cpu"] = Median(measured.Select(t => t.CpuSeconds)),
        ["capture_process_cpu"] = Median(measured.Select(t => t.CaptureCpuSeconds)),
    },
    ["runs_s"] = measured.Select(Phases).ToList(),
    ["client_http2_stream_window_bytes"] = clientWindow?.ToString(CultureInfo.InvariantCulture) ?? "default",
    ["server_max_response_buffer_bytes"] = serverBuffer?.ToString(CultureInfo.InvariantCulture) ?? "default",
    ["transfer_only_s"] = Round(transferSeconds),
    ["transfer_only_runs_s"] = transfers.Select(Round).ToList(),
    ["transfer_only_gb_per_s"] = Round(transferBytes / transferSeconds / 1e9),
    ["concurrent_connections_gb_per_s"] = scaling,
    ["digest_one_pass_s"] = Round(hashSeconds.Digest),
    ["sha256_one_pass_s"] = Round(hashSeconds.Sha256),
    ["peak_working_set_gb"] = Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1e9),
    ["weight_sync_0_5b_s"] = Median(measured.Select(t => t.Total)),
    ["weight_sync_0_5b_min_s"] = Round(measured.Min(t => t.Total)),
    ["weight_sync_0_5b_max_s"] = Round(measured.Max(t => t.Total)),
};

foreach (var channel in extraChannels)
{
    channel.Dispose();
}

var json = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(json);
if (options.Has("output"))
{
    File.WriteAllText(options.Get("output", string.Empty), json);
}

return 0;

static Dictionary<string, double> Phases(SyncTiming t) => new()
{
    ["capture"] = Round(t.Capture), ["pull"] = Round(t.Pull), ["apply"] = Round(t.Apply), ["check"] = Round(t.Check), ["total"] = Round(t.Total),
};

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    var middle = sorted.Length / 2;
    return Round(sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2);
}

static double Round(double value) => Math.Round(value, 3);
