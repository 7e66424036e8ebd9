using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace GrpoAspire.Coordination;

/// <summary>
/// Announces new weights versions: the hash <c>grpo:{run}:weights:version</c> holds the latest (version, address,
/// published_at) for replicas that start late or missed a message, and the channel <c>grpo:{run}:weights</c>
/// carries each announcement as JSON to the replicas listening now.
/// </summary>
/// <remarks>
/// Pub/sub is fire-and-forget: a replica disconnected during a publish never gets that message. The key is what
/// makes that safe: every subscription starts by reading it, so the latest version is never missed, only
/// intermediate ones, which a replica would skip anyway.
/// </remarks>
public sealed class WeightAnnouncer
{
    /// <summary>Longest weights address accepted; an address is a URL, not a payload.</summary>
    public const int MaxAddressLength = 2048;

    // Set and publish in one script, so that the key and the messages move in the same order even with two
    // publishers, and a version older than the stored one is refused rather than rolling replicas back.
    // Versions travel as decimal strings; Lua compares them as doubles, exact below 2^53.
    private const string PublishScript = """
        local current = redis.call('HGET', KEYS[1], 'version')
        if current and tonumber(current) > tonumber(ARGV[1]) then
          return current
        end
        redis.call('HSET', KEYS[1], 'version', ARGV[1], 'address', ARGV[2], 'published_at', ARGV[3])
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        return false
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly RedisChannel _channel;
    private readonly ILogger _logger;

    public WeightAnnouncer(IConnectionMultiplexer redis, RunKeys keys, ILogger<WeightAnnouncer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(keys);
        _redis = redis;
        _db = redis.GetDatabase();
        Keys = keys;
        _channel = RedisChannel.Literal(keys.WeightsChannel);
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    public RunKeys Keys { get; }

    /// <summary>
    /// Records <paramref name="version"/> as the latest and announces it. Announcing the current version again is
    /// allowed (a restarted trainer); an older one throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public async Task<WeightAnnouncement> PublishAsync(long version, string weightsAddress,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        ArgumentException.ThrowIfNullOrWhiteSpace(weightsAddress);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weightsAddress.Length, MaxAddressLength, nameof(weightsAddress));

        var announcement = new WeightAnnouncement(version, weightsAddress, DateTimeOffset.UtcNow);
        var result = await _db.ScriptEvaluateAsync(PublishScript, [Keys.WeightsVersion],
        [
            version.ToString(CultureInfo.InvariantCulture),
            weightsAddress,
            announcement.PublishedAt.ToString("O", CultureInfo.InvariantCulture),
            Keys.WeightsChannel,
            JsonSerializer.Serialize(announcement, WeightJson.Default.WeightAnnouncement),
        ]).WaitAsync(cancellationToken);
        if (!result.IsNull)
        {
            throw new InvalidOperationException(
                $"weights version {version} is older than the announced version {result} of run '{Keys.Run}'");
        }

        return announcement;
    }

    /// <summary>The latest announced version, or null when none was announced in this run.</summary>
    public async Task<WeightAnnouncement?> GetLatestAsync(CancellationToken cancellationToken = default)
    {
        var fields = await _db.HashGetAsync(Keys.WeightsVersion, ["version", "address", "published_at"])
            .WaitAsync(cancellationToken);
        if (fields[0].IsNull)
        {
            return null;
        }

        if (!long.TryParse((string?)fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || fields[1].IsNullOrEmpty
            || !DateTimeOffset.TryParse((string?)fields[2], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind,
                out var publishedAt))
        {
            throw new InvalidDataException(
                $"{Keys.WeightsVersion} does not hold a weights announcement: version '{fields[0]}', "
                + $"address '{fields[1]}', published_at '{fields[2]}'");
        }

        return new WeightAnnouncement(version, fields[1]!, publishedAt);
    }

    /// <summary>
    /// Calls <paramref name="handler"/> with the current version (if any), then with each newer one announced, one
    /// call at a time and in increasing version order; versions at or below the last handled one are skipped.
    /// A handler that throws is logged and the subscription goes on; that version counts as not handled. Dispose the result to unsubscribe.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(Func<WeightAnnouncement, Task> handler,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        // Subscribe before reading the key: an announcement made in between is then both in the key and queued,
        // and the version check delivers it once, where reading first could miss it altogether.
        var queue = await _redis.GetSubscriber().SubscribeAsync(_channel).WaitAsync(cancellationToken);
        var subscription = new WeightSubscription(queue, handler, _logger);
        try
        {
            queue.OnMessage(subscription.OnMessageAsync);
            if (await GetLatestAsync(cancellationToken) is { } latest)
            {
                await subscription.DeliverAsync(latest);
            }
        }
        catch
        {
            await subscription.DisposeAsync();
            throw;
        }

        return subscription;
    }

    private sealed class WeightSubscription(ChannelMessageQueue queue, Func<WeightAnnouncement, Task> handler,
        ILogger logger) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private long _lastVersion = -1;

        public async Task OnMessageAsync(ChannelMessage message)
        {
            WeightAnnouncement? announcement = null;
            string? problem = null;
            try
            {
                announcement = JsonSerializer.Deserialize(message.Message.ToString(),
                    WeightJson.Default.WeightAnnouncement);
            }
            catch (JsonException e)
            {
                problem = e.Message;
            }

            if (announcement is null || announcement.Version < 0 || string.IsNullOrEmpty(announcement.Address))
            {
                CoordinationLog.BadAnnouncement(logger, message.Channel.ToString(), problem ?? "no version or address");
                return;
            }

            await DeliverAsync(announcement);
        }

        public async Task DeliverAsync(WeightAnnouncement announcement)
        {
            await _gate.WaitAsync();
            try
            {
                if (announcement.Version <= _lastVersion)
                {
                    return;
                }

                await handler(announcement);
                // Only after success: a failed version is tried again if it is announced again.
                _lastVersion = announcement.Version;
            }
            catch (Exception e)
            {
                CoordinationLog.HandlerFailed(logger, announcement.Version, e);
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync() => await queue.UnsubscribeAsync();
    }
}
