using System.Diagnostics;
using System.Text.Json;
using Grpc.Net.Client;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Grpo.Training;
using GrpoAspire.Testing;
using StackExchange.Redis;

namespace GrpoAspire.Testing;

/// <summary>
/// The distributed system on one machine: redis-server, the reward service, generation replicas and the trainer,
/// each a process, wired by the environment contract (ConnectionStrings__redis, services__{name}__grpc__0,
/// Security__Token), with spans written to one JSONL file per service.
/// </summary>
internal sealed class Cluster : IAsyncDisposable
{
    public const string Token = "e2e-secret-token";
    private readonly List<ServiceProcess> _services = [];
    private readonly Dictionary<string, GrpcChannel> _channels = [];

    private Cluster(string folder, RedisServer redis, IConnectionMultiplexer connection, string run)
    {
        Folder = folder;
        Redis = redis;
        Connection = connection;
        Run = run;
    }

    public string Folder { get; }

    public RedisServer Redis { get; }

    public IConnectionMultiplexer Connection { get; }

    public string Run { get; }

    public string ModelFolder => Path.Combine(Folder, "model");

    public string RunFolder => Path.Combine(Folder, "run");

    public string RecipePath => Path.Combine(Folder, "recipe.yaml");

    public string TraceFolder => Path.Combine(Folder, "traces");

    public ServiceProcess? Reward { get; private set; }

    public ServiceProcess? Trainer { get; private set; }

    public List<ServiceProcess> Replicas { get; } = [];

    /// <summary>
    /// Redis, the model every service starts from (a random tiny one, or a copy of <paramref name="startModel"/>), the
    /// recipe, and the reward service.
    /// </summary>
    public static async Task<Cluster> StartAsync(string recipe, string? startModel = null)
    {
        var folder = Directory.CreateTempSubdirectory("grpo-e2e-").FullName;
        var redis = new RedisServer();
        await redis.InitializeAsync();
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var cluster = new Cluster(folder, redis, connection, "e2e");
        Directory.CreateDirectory(cluster.TraceFolder);
        if (startModel is null)
        {
            ModelResolver.CreateRandom(cluster.ModelFolder, ModelResolver.RandomConfig("tiny"), seed: 3);
        }
        else
        {
            Directory.CreateDirectory(cluster.ModelFolder);
            foreach (var file in Directory.GetFiles(startModel))
            {
                File.Copy(file, Path.Combine(cluster.ModelFolder, Path.GetFileName(file)));
            }
        }
        await File.WriteAllTextAsync(cluster.RecipePath, recipe);
        await cluster.StartRewardAsync();
        return cluster;
    }

    /// <summary>Starts the reward service, or restarts it on the same ports (where the replicas were told it is).</summary>
    public async Task<ServiceProcess> StartRewardAsync() =>
        Reward = await StartServiceAsync("reward", "GrpoAspire.Reward", [], Reward is null ? null : (Reward.GrpcPort, Reward.HttpPort));

    public async Task<ServiceProcess> StartReplicaAsync(string name, Dictionary<string, string>? extra = null, Uri? trainerAddress = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Generation__ModelPath"] = ModelFolder,
            ["Generation__Run"] = Run,
            ["Generation__Replica"] = name,
            ["Generation__ReclaimIdleSeconds"] = "2",
            ["Generation__PollIntervalMilliseconds"] = "20",
            ["services__trainer__grpc__0"] = (trainerAddress ?? Trainer?.GrpcAddress ?? new Uri("http://127.0.0.1:9")).ToString(),
        };
        foreach (var (key, value) in extra ?? [])
        {
            environment[key] = value;
        }

        var replica = await StartServiceAsync(name, "GrpoAspire.Generation", environment);
        Replicas.Add(replica);
        return replica;
    }

    /// <summary>
    /// Starts the trainer, or restarts it on the same ports (a Kubernetes Service keeps its address across pod
    /// restarts); replicas read its address from their configuration, so start it first.
    /// </summary>
    /// <param name="extra">settings added to (or replacing) the trainer's, e.g. Trainer__ExitWhenDone</param>
    /// <param name="waitUntilHealthy">false for a trainer expected to exit at once</param>
    public async Task<ServiceProcess> StartTrainerAsync(Dictionary<string, string>? extra = null, bool waitUntilHealthy = true)
    {
        var environment = new Dictionary<string, string>
        {
            ["Trainer__Recipe"] = RecipePath,
            ["Trainer__Output"] = RunFolder,
            ["Trainer__Model"] = ModelFolder,
            ["Trainer__Run"] = Run,
            ["Trainer__RolloutTimeoutSeconds"] = "120",
        };
        foreach (var (key, value) in extra ?? [])
        {
            environment[key] = value;
        }

        return Trainer = await StartServiceAsync("trainer", "GrpoAspire.Trainer", environment, Trainer is null ? null : (Trainer.GrpcPort, Trainer.HttpPort), waitUntilHealthy);
    }

    private async Task<ServiceProcess> StartServiceAsync(
        string name, string project, Dictionary<string, string> environment, (int, int)? ports = null, bool waitUntilHealthy = true)
    {
        environment["ConnectionStrings__redis"] = Redis.ConnectionString;
        environment["Security__Token"] = Token;
        environment["GRPO_TRACE_FILE"] = Path.Combine(TraceFolder, name + ".jsonl");
        if (Reward is not null)
        {
            environment["services__reward__grpc__0"] = Reward.GrpcAddress.ToString();
        }

        var service = await ServiceProcess.StartAsync(name, project, environment, ports, waitUntilHealthy: waitUntilHealthy);
        _services.Add(service);
        return service;
    }

    public GrpcChannel Channel(ServiceProcess service)
    {
        if (!_channels.TryGetValue(service.Name + service.GrpcPort, out var channel))
        {
            channel = GrpcChannel.ForAddress(service.GrpcAddress);
            _channels[service.Name + service.GrpcPort] = channel;
        }

        return channel;
    }

    public TrainerService.TrainerServiceClient TrainerClient() => new(Channel(Trainer!));

    public GenerationService.GenerationServiceClient GenerationClient(ServiceProcess replica) => new(Channel(replica));

    /// <summary>Polls the trainer until its status is one of <paramref name="states"/>; fails with its log otherwise.</summary>
    public async Task<GetTrainerStatusResponse> WaitForTrainerAsync(TimeSpan timeout, params string[] states)
    {
        var clock = Stopwatch.StartNew();
        GetTrainerStatusResponse? status = null;
        while (clock.Elapsed < timeout)
        {
            if (Trainer!.HasExited)
            {
                break;
            }

            status = await TrainerClient().GetTrainerStatusAsync(new GetTrainerStatusRequest());
            if (states.Contains(status.Status) || status.Status == "failed")
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.True(status is not null && states.Contains(status.Status), $"trainer status {status?.Status} ({status?.Error}) after {clock.Elapsed}:\n{Trainer!.Log}\n--- replicas:\n{string.Join("\n---\n", Replicas.Select(r => r.Log))}");
        return status!;
    }

    /// <summary>Polls the trainer until it has done <paramref name="step"/> steps; fails with its log when it stopped or took too long.</summary>
    public async Task<GetTrainerStatusResponse> WaitForTrainerStepAsync(int step, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        GetTrainerStatusResponse? status = null;
        while (clock.Elapsed < timeout && !Trainer!.HasExited)
        {
            status = await TrainerClient().GetTrainerStatusAsync(new GetTrainerStatusRequest());
            if (status.Step >= step || status.Status is "finished" or "stopped" or "failed")
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.True(status is not null && status.Step >= step && status.Status == "training",
            $"trainer status {status?.Status} at step {status?.Step} ({status?.Error}), waiting for step {step} after {clock.Elapsed}:\n{Trainer!.Log}");
        return status!;
    }

    public int[] MetricSteps() => File.ReadAllLines(Path.Combine(RunFolder, "metrics.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).ToArray();

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }

        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        Connection.Dispose();
        await Redis.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
