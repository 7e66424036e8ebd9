namespace GrpoAspire.AppHost.Hosting;

/// <summary>
/// Runs the app model: starts resources in dependency order once what they wait for is running and healthy, watches
/// health, stops everything (reverse order, whole process trees) on cancellation or when a resource exits
/// unexpectedly, and reports which one failed.
/// </summary>
public sealed class DistributedApplication(IReadOnlyList<ProcessResource> resources)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private readonly object _consoleGate = new();

    public IReadOnlyList<ProcessResource> Resources { get; } = resources;

    /// <summary>The resource whose exit or failed start stopped the app, if any.</summary>
    public ProcessResource? Failed { get; private set; }

    /// <summary>Why the app stopped early, if it did.</summary>
    public string? FailureMessage { get; private set; }

    public TextWriter Console { get; init; } = System.Console.Out;

    /// <summary>Starts everything, then returns when <paramref name="stop"/> fires or a required resource exits; always stops all.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(stop);
        ProcessResource? starting = null;
        try
        {
            foreach (var resource in Resources)
            {
                resource.State = ResourceState.Waiting;
            }

            foreach (var resource in Resources)
            {
                starting = resource;
                await WaitForDependenciesAsync(resource, failure.Token);
                if (resource.BeforeStart is { } prepare)
                {
                    await prepare(failure.Token);
                }

                resource.Start(Console, _consoleGate);
                Log($"{resource.Name} started (pid {resource.ProcessId})");
                _ = WatchExitAsync(resource, failure);
                await WaitHealthyAsync(resource, failure.Token);
                resource.State = ResourceState.Running;
                Log($"{resource.Name} is running and healthy: {string.Join(", ", resource.Endpoints.Select(e => $"{e.Key} {e.Value}"))}");
            }

            await MonitorHealthAsync(failure.Token);
        }
        catch (OperationCanceledException) when (failure.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or Grpc.Core.RpcException)
        {
            Failed ??= starting;
            FailureMessage = e.Message;
            Log($"{starting?.Name ?? "app"} could not start: {e.Message}; stopping everything");
        }
        finally
        {
            await StopAllAsync();
        }
    }

    private async Task WatchExitAsync(ProcessResource resource, CancellationTokenSource failure)
    {
        await resource.Exited;
        if (resource.State != ResourceState.Finished && resource.Required && !failure.IsCancellationRequested)
        {
            Failed ??= resource;
            FailureMessage ??= $"{resource.Name} exited with code {resource.ExitCode}";
            Log($"{resource.Name} exited with code {resource.ExitCode}; stopping everything");
            await failure.CancelAsync();
        }
    }

    private async Task WaitForDependenciesAsync(ProcessResource resource, CancellationToken cancellationToken)
    {
        foreach (var dependency in resource.WaitsFor)
        {
            while (dependency.State != ResourceState.Running)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private async Task WaitHealthyAsync(ProcessResource resource, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!await resource.IsHealthyAsync(cancellationToken))
        {
            if (DateTime.UtcNow > deadline)
            {
                Failed ??= resource;
                throw new TimeoutException($"{resource.Name} was not healthy after {StartTimeout.TotalMinutes} minutes");
            }

            await Task.Delay(200, cancellationToken);
        }

        resource.Health = ResourceHealth.Healthy;
    }

    private async Task MonitorHealthAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            foreach (var resource in Resources.Where(r => r.State == ResourceState.Running))
            {
                resource.Health = await resource.IsHealthyAsync(cancellationToken) ? ResourceHealth.Healthy : ResourceHealth.Unhealthy;
            }
        }
    }

    /// <summary>
    /// Stops the resources in two waves, each all at once: those that waited for others at start (trainer, generation),
    /// then the ones that did not (reward, redis). Each wave takes at most one grace period, so Ctrl+C waits for two,
    /// not for one per resource in a row.
    /// </summary>
    private async Task StopAllAsync()
    {
        await Task.WhenAll(Resources.Where(r => r.WaitsFor.Count > 0).Select(r => r.StopAsync()));
        await Task.WhenAll(Resources.Where(r => r.WaitsFor.Count == 0).Select(r => r.StopAsync()));
        Log("all resources stopped");
    }

    private void Log(string message)
    {
        lock (_consoleGate)
        {
            Console.WriteLine($"[apphost] {message}");
        }
    }
}
