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
/// Pub/sub is fire-and-forget: a replica disconnected during a publish never gets that message, and the client
/// resubscribes after a reconnect without telling anyone what it missed. The key is what makes that safe: every
/// subscription starts by reading it and reads it again every few seconds, so the latest version is never missed
/// for long, only intermediate ones, which a replica would skip anyway.
/// <para>
/// Each announcer is one incarnation (a random id made when it is created; the trainer makes one per process).
/// Versions are the trainer's steps, so a trainer resumed from checkpoint-35 after announcing 40 serves an older
/// version 35 with other weights than the first 35: within an incarnation a lower version is refused, and a new
/// incarnation replaces the key whatever its version, so replicas roll back to the resumed trainer's weights.
/// One trainer per run is assumed: two live trainers of one run would take the key from each other.
/// </para>
/// </remarks>
public sealed class WeightAnnouncer
{
    /// <summary>Longest weights address accepted; an address is a URL, not a payload.</summary>
    public const int MaxAddressLength = 2048;

    /// <summary>How often a subscription reads the key again, for announcements published while it was disconnected.</summary>
    public static readonly TimeSpan DefaultRecheckInterval = TimeSpan.FromSeconds(5);

    // Set and publish in one script, so that the key and the messages move in the same order even with two
    // publishers, and a version older than the stored one of the same incarnation is refused rather than rolling
    // replicas back. Versions travel as decimal strings; Lua compares them as doubles, exact below 2^53.
    private const string PublishScript = """
        local current = redis.call('HMGET', KEYS[1], 'version', 'incarnation')
        if current[1] and current[2] == ARGV[6] and tonumber(current[1]) > tonumber(ARGV[1]) then
          return current[1]
        end
        redis.call('HSET', KEYS[1], 'version', ARGV[1], 'address', ARGV[2], 'published_at', ARGV[3], 'incarnation', ARGV[6])
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
        Incarnation = Guid.NewGuid().ToString("N")[..16];
    }

    public RunKeys Keys { get; }

    /// <summary>This announcer's incarnation: 16 random hex digits, in every announcement it publishes.</summary>
    public string Incarnation { get; }

    /// <summary>
    /// Records <paramref name="version"/> of this <see cref="Incarnation"/> as the latest and announces it. Announcing the
    /// current version again is allowed (the key lost with Redis's data); an older one of the same incarnation throws
    /// <see cref="InvalidOperationException"/>; any version replaces another incarnation's.
    /// </summary>
    public async Task<WeightAnnouncement> PublishAsync(long version, string weightsAddress,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        ArgumentException.ThrowIfNullOrWhiteSpace(weightsAddress);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weightsAddress.Length, MaxAddressLength, nameof(weightsAddress));

        var announcement = new WeightAnnouncement(version, weightsAddress, DateTimeOffset.UtcNow, Incarnation);
        var result = await _db.ScriptEvaluateAsync(PublishScript, [Keys.WeightsVersion],
        [
            version.ToString(CultureInfo.InvariantCulture),
            weightsAddress,
            announcement.PublishedAt.ToString("O", CultureInfo.InvariantCulture),
            Keys.WeightsChannel,
            JsonSerializer.Serialize(announcement, WeightJson.Default.WeightAnnouncement),
            Incarnation,
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
        var fields = await _db.HashGetAsync(Keys.WeightsVersion, ["version", "address", "published_at", "incarnation"])
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

        // An announcement made before incarnations existed has none: "" differs from every trainer's.
        return new WeightAnnouncement(version, fields[1]!, publishedAt, fields[3].IsNull ? "" : fields[3]!);
    }

    /// <summary>
    /// Calls <paramref name="handler"/> with the current version (if any), then with each newer one announced, one
    /// call at a time and in increasing version order; versions at or below the last handled one of the same
    /// incarnation are skipped, and any version of a new incarnation is delivered. Announcements whose message was
    /// lost (the subscription's connection was down when they were published) are found by reading the key again
    /// every <paramref name="recheckEvery"/> (<see cref="DefaultRecheckInterval"/> when null).
    /// A handler that throws is logged and the subscription goes on; that version counts as not handled. Dispose the result to unsubscribe.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(Func<WeightAnnouncement, Task> handler,
        TimeSpan? recheckEvery = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var interval = recheckEvery ?? DefaultRecheckInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(recheckEvery));
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

            subscription.StartRechecking(this, interval);
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
        private readonly CancellationTokenSource _stop = new();
        private Task _rechecking = Task.CompletedTask;
        private (string Incarnation, long Version)? _last;

        public void StartRechecking(WeightAnnouncer announcer, TimeSpan interval) =>
            _rechecking = RecheckAsync(announcer, interval, _stop.Token);

        private async Task RecheckAsync(WeightAnnouncer announcer, TimeSpan interval, CancellationToken stop)
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                while (await timer.WaitForNextTickAsync(stop))
                {
                    WeightAnnouncement? latest;
                    try
                    {
                        latest = await announcer.GetLatestAsync(stop);
                    }
                    catch (Exception e) when (!stop.IsCancellationRequested)
                    {
                        // Redis is down or the key holds garbage: the next tick tries again, and a message may come first.
                        CoordinationLog.RecheckFailed(logger, announcer.Keys.WeightsVersion, e.Message);
                        continue;
                    }

                    if (latest is not null)
                    {
                        await DeliverAsync(latest);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }

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

            if (announcement is null || announcement.Version < 0 || string.IsNullOrEmpty(announcement.Address)
                || announcement.Incarnation is null)
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
                if (_last is { } last && !announcement.IsNewerThan(last.Incarnation, last.Version))
                {
                    return;
                }

                await handler(announcement);
                // Only after success: a failed version is tried again if it is announced again.
                _last = (announcement.Incarnation, announcement.Version);
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

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _rechecking;
            _stop.Dispose();
            await queue.UnsubscribeAsync();
        }
    }
}
