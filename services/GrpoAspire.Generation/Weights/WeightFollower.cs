using System.Diagnostics;
using GrpoAspire.Contracts.V1;
using GrpoAspire.Coordination;
using GrpoAspire.Generation.Policy;
using GrpoAspire.WeightSync;

namespace GrpoAspire.Generation.Weights;

/// <summary>
/// Follows the trainer's weight versions: on each announcement (and when a job needs a newer version than the one
/// served) it pulls the latest version from the trainer's weight service, verifies all of it, and hands it to the
/// policy host, which swaps it in between batches. A stream that fails verification changes nothing: the replica
/// keeps serving the version it had.
/// </summary>
internal sealed class WeightFollower(
    WeightAnnouncer announcer,
    WeightsService.WeightsServiceClient client,
    PolicyHost policy,
    WeightsToken token,
    ILogger<WeightFollower> logger) : BackgroundService
{
    private readonly SemaphoreSlim _pulling = new(1, 1);

    public string? LastError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await announcer.SubscribeAsync(async announcement =>
        {
            if (announcement.Version > policy.Version)
            {
                await SyncAsync(stoppingToken);
            }
        }, stoppingToken);
        await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>Returns once the served version is at least <paramref name="version"/>; pulls when needed.</summary>
    public async Task WaitForVersionAsync(long version, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (policy.Version < version)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"weights version {version} was needed and {policy.Version} is served after {timeout.TotalSeconds:F0} s"
                    + (LastError is null ? string.Empty : $"; last pull failed: {LastError}"));
            }

            await SyncAsync(cancellationToken);
            if (policy.Version < version)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
    }

    /// <summary>Pulls the newest announced version if it is newer than the one served.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _pulling.WaitAsync(cancellationToken);
        try
        {
            var latest = await announcer.GetLatestAsync(cancellationToken);
            if (latest is null || latest.Version <= policy.Version)
            {
                return;
            }

            using var span = GrpoTelemetry.ActivitySource.StartActivity("weights.pull", ActivityKind.Client);
            span?.SetTag("grpo.policy_version", latest.Version);
            try
            {
                var weights = await WeightsClient.PullAsync(client, latest.Version, token.Value, cancellationToken);
                if (await policy.ApplyAsync(weights, cancellationToken))
                {
                    LastError = null;
                    logger.LogInformation("now serving weights version {Version} ({Bytes:N0} bytes)", weights.Version, weights.TotalBytes);
                }
            }
            catch (Exception e) when (e is WeightStreamException or Grpc.Core.RpcException)
            {
                span?.SetStatus(ActivityStatusCode.Error, e.Message);
                if (e.Message != LastError)
                {
                    // Once per distinct failure: a trainer that is restarting would otherwise fill the log.
                    logger.LogError("weights version {Version} not applied, still serving {Served}: {Message}", latest.Version, policy.Version, e.Message);
                }

                LastError = e.Message;
            }
        }
        finally
        {
            _pulling.Release();
        }
    }

    public override void Dispose()
    {
        _pulling.Dispose();
        base.Dispose();
    }
}

/// <summary>The bearer token this replica presents to the trainer's weight service.</summary>
internal sealed record WeightsToken(string Value);
