using GrpoAspire.Coordination;

namespace GrpoAspire.Trainer.Training;

/// <summary>
/// Announces the weights versions the trainer serves, and announces the last one again when its announcement is gone
/// from Redis (restarted empty, without persistence): replicas that have not taken it yet wait for it, and the trainer
/// waits for their rollouts. Checks every Trainer:LostJobCheckSeconds; a Redis that is down is left to the next check.
/// </summary>
internal sealed class AnnouncementKeeper(
    WeightAnnouncer announcer,
    CoordinationOptions coordination,
    IConfiguration configuration,
    ILogger<AnnouncementKeeper> logger) : BackgroundService
{
    private long _announced = -1;

    /// <summary>
    /// Announces <paramref name="version"/> (retried through a Redis outage of up to Trainer:RedisOutageSeconds) and keeps it
    /// announced. Version 0 is the starting model, which replicas load from their own model folder.
    /// </summary>
    public async Task AnnounceAsync(long version, CancellationToken cancellationToken)
    {
        await RedisOutage.RetryAsync(() => announcer.PublishAsync(version, Address, cancellationToken), coordination,
            $"announcing weights version {version}", logger, cancellationToken);
        Interlocked.Exchange(ref _announced, version);
    }

    private string Address => configuration["Kestrel:Endpoints:Grpc:Url"] ?? string.Empty;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(coordination.LostJobCheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await KeepAsync(stoppingToken);
            }
            catch (Exception e) when (RedisOutage.IsOutage(e))
            {
                // Redis is down: the trainer's own commands report it; the next check announces once it is back.
            }
        }
    }

    private async Task KeepAsync(CancellationToken cancellationToken)
    {
        var version = Interlocked.Read(ref _announced);
        if (version < 0 || await announcer.GetLatestAsync(cancellationToken) is not null)
        {
            return;
        }

        try
        {
            await announcer.PublishAsync(version, Address, cancellationToken);
            logger.LogWarning("the weights announcement was gone from Redis (restarted empty?): announced version {Version} again", version);
        }
        catch (InvalidOperationException)
        {
            // The trainer announced a newer version meanwhile: nothing to restore.
        }
    }
}
