using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace GrpoAspire.Coordination;

/// <summary>Redis was unreachable for longer than <see cref="CoordinationOptions.MaxOutage"/>.</summary>
public sealed class RedisUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Retries a Redis command through an outage (a Redis pod restarting): the multiplexer reconnects by itself
/// (<c>abortConnect=false</c>), so the command is tried again until it succeeds or the outage has lasted
/// <see cref="CoordinationOptions.MaxOutage"/>.
/// </summary>
/// <remarks>
/// Only for commands that may run twice: a write whose reply was lost may have been applied. The trainer's are
/// (a job enqueued twice yields a duplicate group, which the collector drops; announcements and state are overwrites).
/// </remarks>
public static class RedisOutage
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    public static async Task<T> RetryAsync<T>(Func<Task<T>> command, CoordinationOptions options, string what,
        ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(options);
        Stopwatch? down = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var result = await command().WaitAsync(cancellationToken);
                if (down is not null)
                {
                    CoordinationLog.RedisBack(logger, what, down.Elapsed.TotalSeconds);
                }

                return result;
            }
            catch (Exception e) when (IsOutage(e))
            {
                if (down is null)
                {
                    down = Stopwatch.StartNew();
                    CoordinationLog.RedisDown(logger, what, e.GetType().Name);
                }
                else if (down.Elapsed >= options.MaxOutage)
                {
                    throw new RedisUnavailableException(
                        $"Redis was unreachable for {down.Elapsed.TotalSeconds:0} s while {what} "
                        + $"(outage limit {options.MaxOutage.TotalSeconds:0} s)", e);
                }
            }

            await Task.Delay(RetryDelay, cancellationToken);
        }
    }

    public static Task RetryAsync(Func<Task> command, CoordinationOptions options, string what, ILogger logger,
        CancellationToken cancellationToken) =>
        RetryAsync(async () => { await command(); return true; }, options, what, logger, cancellationToken);

    /// <summary>
    /// Connection lost, a command timed out waiting for one, or a Redis that is up but still loading its data.
    /// </summary>
    public static bool IsOutage(Exception e) => e is RedisConnectionException or RedisTimeoutException
        || (e is RedisServerException s && s.Message.StartsWith("LOADING", StringComparison.Ordinal));
}
