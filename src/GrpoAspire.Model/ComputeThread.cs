using System.Collections.Concurrent;

namespace GrpoAspire.Model;

/// <summary>
/// One dedicated thread for a model's libtorch work, which async code hands work to and awaits. Work spread over the
/// thread pool's threads (wherever an await resumes) costs memory and time on a CPU: glibc gives each thread that
/// allocates its own malloc arena, libtorch's CPU allocator frees a step's activations into the arena of the thread
/// that ran it, and each arena keeps its peak. A trainer whose steps resumed on pool threads grew to 20 GB and was
/// killed by the kernel at step 16 of the aha run (measured here), with twice the step time in page faults.
/// </summary>
public sealed class ComputeThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public ComputeThread(string name)
    {
        _thread = new Thread(Drain) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the thread after what was queued before it; its exception comes back through the task.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Thread.CurrentThread == _thread)
        {
            // Work that hands more work to its own thread runs it at once (it would wait for itself).
            try
            {
                return Task.FromResult(work());
            }
            catch (Exception e)
            {
                return Task.FromException<T>(e);
            }
        }

        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The caller's execution context goes along, as it would through an await: the current span (a step's
        // trainer.optimize under its trainer.step) and other async-locals.
        var context = ExecutionContext.Capture();
        void Run()
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }

        _work.Add(context is null ? Run : () => ExecutionContext.Run(context, _ => Run(), null));
        return done.Task;
    }

    public Task RunAsync(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(() =>
        {
            work();
            return true;
        });
    }

    private void Drain()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }

    /// <summary>Lets the queued work finish, then ends the thread.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }
}
