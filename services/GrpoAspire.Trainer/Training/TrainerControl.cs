namespace GrpoAspire.Trainer.Training;

/// <summary>What an operator asked the training loop to do after the step in progress.</summary>
[Flags]
internal enum ControlRequests
{
    None = 0,
    Checkpoint = 1,
    Evaluation = 2,
    Stop = 4,
}

/// <summary>The answer to a control request: taken, and after which step it happens; or why not.</summary>
/// <param name="Step">Optimizer steps done when the request arrived.</param>
/// <param name="AfterStep">The step after which the request is carried out (the step in progress); 0 when refused.</param>
/// <param name="Reason">Why the request was refused; empty when accepted.</param>
internal sealed record ControlAnswer(bool Accepted, int Step, int AfterStep, string Reason);

/// <summary>
/// Pending control requests (checkpoint now, evaluate now, stop after this step) between the gRPC service, which
/// adds them from any thread, and the training loop, which takes them all at once after each step and carries
/// them out there. Once the loop is over, requests are refused with the reason.
/// </summary>
internal sealed class TrainerControl
{
    private readonly object _gate = new();
    private ControlRequests _pending;
    private int _stepsDone;
    private string? _closed;

    /// <summary>Adds <paramref name="request"/>; it is carried out after the step in progress.</summary>
    public ControlAnswer Request(ControlRequests request)
    {
        if (request == ControlRequests.None)
        {
            throw new ArgumentException("a control request names at least one action", nameof(request));
        }

        lock (_gate)
        {
            if (_closed is not null)
            {
                return new ControlAnswer(false, _stepsDone, 0, _closed);
            }

            _pending |= request;
            return new ControlAnswer(true, _stepsDone, _stepsDone + 1, string.Empty);
        }
    }

    /// <summary>The loop starts at <paramref name="stepsDone"/> (a resumed run does not start at 0).</summary>
    public void Begin(int stepsDone)
    {
        lock (_gate)
        {
            _stepsDone = stepsDone;
        }
    }

    /// <summary>
    /// Called by the loop once step <paramref name="stepsDone"/> is complete: the requests made until now, cleared.
    /// A request made from here on is carried out after the next step, and its answer says so.
    /// </summary>
    public ControlRequests Take(int stepsDone)
    {
        lock (_gate)
        {
            _stepsDone = stepsDone;
            var taken = _pending;
            _pending = ControlRequests.None;
            return taken;
        }
    }

    /// <summary>The loop is over: later requests are refused with <paramref name="reason"/>; returns those never carried out.</summary>
    public ControlRequests Close(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        lock (_gate)
        {
            _closed = reason;
            var dropped = _pending;
            _pending = ControlRequests.None;
            return dropped;
        }
    }
}
