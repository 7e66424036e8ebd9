using Grpc.Core;
using GrpoAspire.Generation.Options;
using Microsoft.Extensions.Options;

namespace GrpoAspire.Generation.Services;

/// <summary>
/// The replica's bounds on <c>Generate</c>: calls admitted at once and their requested tokens together
/// (<see cref="GenerationOptions.MaxConcurrentGenerateCalls"/>, <see cref="GenerationOptions.MaxGenerateTokensInFlight"/>).
/// A call holds its admission until its sampling has stopped, not merely until its caller went away, so a caller that
/// cancels and retries cannot stack work behind the model.
/// </summary>
internal sealed class GenerateAdmission(IOptions<GenerationOptions> options)
{
    private readonly Lock _gate = new();
    private int _calls;
    private long _tokens;

    /// <summary>Admits a call requesting <paramref name="tokens"/> or throws RESOURCE_EXHAUSTED naming the limit it would pass.</summary>
    /// <param name="tokens">Sequences x (longest prompt + max_new_tokens) of the call.</param>
    public IDisposable Enter(long tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        var settings = options.Value;
        lock (_gate)
        {
            if (_calls >= settings.MaxConcurrentGenerateCalls)
            {
                throw Exhausted(
                    $"Generate: {_calls} calls are in flight on this replica, the limit ({GenerationOptions.SectionName}:"
                    + $"{nameof(GenerationOptions.MaxConcurrentGenerateCalls)}) is {settings.MaxConcurrentGenerateCalls}; retry later");
            }

            if (_tokens + tokens > settings.MaxGenerateTokensInFlight)
            {
                throw Exhausted(
                    $"Generate: {tokens} requested tokens (sequences x (longest prompt + max_new_tokens)) with {_tokens} in flight exceed "
                    + $"the limit ({GenerationOptions.SectionName}:{nameof(GenerationOptions.MaxGenerateTokensInFlight)}) of {settings.MaxGenerateTokensInFlight}");
            }

            _calls++;
            _tokens += tokens;
        }

        return new Admitted(this, tokens);
    }

    private void Leave(long tokens)
    {
        lock (_gate)
        {
            _calls--;
            _tokens -= tokens;
        }
    }

    private static RpcException Exhausted(string message) => new(new Status(StatusCode.ResourceExhausted, message));

    private sealed class Admitted(GenerateAdmission admission, long tokens) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                admission.Leave(tokens);
            }
        }
    }
}
