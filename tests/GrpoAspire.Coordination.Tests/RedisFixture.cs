using GrpoAspire.Contracts.V1;
using GrpoAspire.Testing;
using StackExchange.Redis;

namespace GrpoAspire.Coordination.Tests;

/// <summary>
/// One redis-server and one connection per test class; each test takes its own run name, so tests never see each
/// other's keys and need no FLUSHALL.
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private int _runs;

    public RedisServer Server { get; } = new();

    public IConnectionMultiplexer Redis { get; private set; } = null!;

    public IDatabase Db => Redis.GetDatabase();

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        Redis = await RedisConnection.ConnectAsync(Server.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        await Server.DisposeAsync();
    }

    /// <summary>Keys of a run no other test uses.</summary>
    public RunKeys NewRun() => new($"test{Interlocked.Increment(ref _runs)}-{Guid.NewGuid():N}");

    public static RolloutJob Job(int step, int promptIndex) => new()
    {
        JobId = $"{step}/{promptIndex}",
        Step = step,
        PromptIndex = promptIndex,
        PromptTokenIds = { 1, 2, 3, promptIndex },
        NumGenerations = 4,
        Sampling = new SamplingSettings { Temperature = 1.0, TopP = 1.0, MaxNewTokens = 16, Seed = (ulong)promptIndex },
        Record = new TaskRecord { Task = "countdown", FieldsJson = """{"nums":[3,5,7],"target":15}""" },
    };

    public static IReadOnlyList<RolloutJob> Jobs(int step, int count) =>
        [.. Enumerable.Range(0, count).Select(i => Job(step, i))];

    public static RolloutGroup Group(int step, int promptIndex, string replica = "replica-a") => new()
    {
        JobId = $"{step}/{promptIndex}",
        Step = step,
        PromptIndex = promptIndex,
        Replica = replica,
        PolicyVersion = step,
        Samples = { new ScoredSample { TokenIds = { 9, 8 }, Logprobs = { -0.5f, -0.25f }, Text = "1+2", TotalReward = 1 } },
    };
}
