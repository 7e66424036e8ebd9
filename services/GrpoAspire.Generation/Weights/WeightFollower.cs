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
    WeightPullStreams streams,
    PolicyHost policy,
    WeightsToken token,
    ILogger<WeightFollower> logger) : BackgroundService
{
    private readonly SemaphoreSlim _pulling = new(1, 1);

    /// <summary>Each pull fills the previous version's buffers (see <see cref="WeightBufferPool"/>); pulls take turns (<see cref="_pulling"/>).</summary>
    private readonly WeightAssemblerOptions _assembly = new() { Buffers = new WeightBufferPool() };

    public string? LastError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var subscription = await announcer.SubscribeAsync(async announcement =>
        {
            var (incarnation, version) = policy.Served;
            if (announcement.IsNewerThan(incarnation, version))
            {
                await SyncAsync(stoppingToken);
            }
        }, cancellationToken: stoppingToken);
        await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>
    /// Returns true once the served weights are <paramref name="incarnation"/>'s, version <paramref name="version"/> or
    /// newer, pulling when needed; false when another incarnation is announced (the trainer that needs them is gone).
    /// While no version is announced (Redis lost it; the trainer announces again) it waits.
    /// </summary>
    public async Task<bool> WaitForVersionAsync(string incarnation, long version, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        bool Served() => policy.Served is var (servedIncarnation, servedVersion) && servedIncarnation == incarnation && servedVersion >= version;
        while (!Served())
        {
            if (clock.Elapsed > timeout)
            {
                var served = policy.Served;
                throw new TimeoutException(
                    $"weights version {version} of trainer incarnation {incarnation} was needed and {served.Version} of "
                    + $"'{served.Incarnation}' is served after {timeout.TotalSeconds:F0} s"
                    + (LastError is null ? string.Empty : $"; last pull failed: {LastError}"));
            }

            var latest = await SyncAsync(cancellationToken);
            if (latest is not null && latest.Incarnation != incarnation)
            {
                return false;
            }

            if (!Served())
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }

        return true;
    }

    /// <summary>Pulls the announced version if the replica does not serve it or a newer one of its incarnation; returns the announcement (null when none).</summary>
    public async Task<WeightAnnouncement?> SyncAsync(CancellationToken cancellationToken)
    {
        await _pulling.WaitAsync(cancellationToken);
        try
        {
            var latest = await announcer.GetLatestAsync(cancellationToken);
            var (incarnation, version) = policy.Served;
            if (latest is null || !latest.IsNewerThan(incarnation, version))
            {
                return latest;
            }

            if (latest.Version == 0)
            {
                // The trainer serves no version 0: it is the starting model, in this replica's model folder.
                await policy.TakeStartingModelAsync(latest.Incarnation, cancellationToken);
                logger.LogInformation("serving the starting model as version 0 of trainer incarnation {Incarnation}", latest.Incarnation);
                return latest;
            }

            await PullAsync(latest, cancellationToken);
            return latest;
        }
        finally
        {
            _pulling.Release();
        }
    }

    private async Task PullAsync(WeightAnnouncement latest, CancellationToken cancellationToken)
    {
        using var span = GrpoTelemetry.ActivitySource.StartActivity("weights.pull", ActivityKind.Client);
        span?.SetTag("grpo.policy_version", latest.Version);
        try
        {
            var weights = await WeightsClient.PullAsync(streams.Clients, latest.Version, token.Value, _assembly, cancellationToken);
            var applied = await policy.ApplyAsync(weights, latest.Incarnation, cancellationToken);
            _assembly.Buffers!.Return(weights); // copied into the model (or not needed): the next pull reuses the memory
            if (applied)
            {
                LastError = null;
                logger.LogInformation("now serving weights version {Version} of trainer incarnation {Incarnation} ({Bytes:N0} bytes over {Streams} stream(s))",
                    weights.Version, latest.Incarnation, weights.TotalBytes, streams.Clients.Count);
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

    public override void Dispose()
    {
        _pulling.Dispose();
        base.Dispose();
    }
}

/// <summary>The clients a pull's streams go through, one per <see cref="Options.GenerationOptions.WeightStreams"/>, each on its own connection.</summary>
internal sealed record WeightPullStreams(IReadOnlyList<WeightsClient> Clients);

/// <summary>The bearer token this replica presents to the trainer's weight service.</summary>
internal sealed record WeightsToken(string Value);
