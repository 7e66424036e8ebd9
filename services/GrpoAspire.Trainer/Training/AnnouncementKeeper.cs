using GrpoAspire.Coordination;
using GrpoAspire.WeightSync;

namespace GrpoAspire.Trainer.Training;

/// <summary>
/// Announces the served weights version again when its announcement is gone from Redis (a Redis restarted empty,
/// without persistence): replicas that have not pulled it yet wait for it, and the trainer waits for their rollouts.
/// Checks every Trainer:LostJobCheckSeconds; a Redis that is down is left to the next check.
/// </summary>
internal sealed class AnnouncementKeeper(
    WeightAnnouncer announcer,
    WeightStore weights,
    CoordinationOptions coordination,
    IConfiguration configuration,
    ILogger<AnnouncementKeeper> logger) : BackgroundService
{
    /// <summary>The weight service's address that announcements carry.</summary>
    public static string Address(IConfiguration configuration) => configuration["Kestrel:Endpoints:Grpc:Url"] ?? string.Empty;

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
        if (weights.Latest is not { } served || await announcer.GetLatestAsync(cancellationToken) is not null)
        {
            return;
        }

        try
        {
            await announcer.PublishAsync(served.Version, Address(configuration), cancellationToken);
            logger.LogWarning("the weights announcement was gone from Redis (restarted empty?): announced version {Version} again", served.Version);
        }
        catch (InvalidOperationException)
        {
            // The trainer announced a newer version meanwhile: nothing to restore.
        }
    }
}
