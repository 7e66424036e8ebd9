using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Training;

namespace GrpoAspire.Grpo.Logging;

/// <summary>
/// As the seed: <c>completion_samples/completion_samples.txt</c> gets a random share of completions (10%),
/// <c>success_completion_samples.txt</c> every completion that solved its task. Seeded, bounded per step.
/// </summary>
public sealed class CompletionSampleWriter : IDisposable
{
    private const double SampleRate = 0.10;
    private const int MaxPerStep = 64;
    private readonly StreamWriter _all;
    private readonly StreamWriter _success;
    private readonly Countdown.SeededRandom _random;

    public CompletionSampleWriter(string runDirectory, ulong seed)
    {
        var folder = Path.Combine(runDirectory, "completion_samples");
        Directory.CreateDirectory(folder);
        _all = new StreamWriter(Path.Combine(folder, "completion_samples.txt"), append: true) { AutoFlush = true };
        _success = new StreamWriter(Path.Combine(folder, "success_completion_samples.txt"), append: true) { AutoFlush = true };
        _random = new Countdown.SeededRandom(seed);
    }

    public void Write(int step, IReadOnlyList<ScoredCompletion> completions, IReadOnlyDictionary<int, PromptJob> prompts)
    {
        int written = 0, successes = 0;
        foreach (var completion in completions)
        {
            var record = prompts[completion.PromptIndex].Record;
            var header = $"\n\n==== step {step} | {record.Json} | reward {completion.Reward.Total:F2} ({completion.Reward.Verdict}) ====\n";
            if (written < MaxPerStep && _random.NextDouble() < SampleRate)
            {
                _all.Write(header + "<think>" + completion.Text);
                written++;
            }

            if (completion.Reward.Solved && successes < MaxPerStep)
            {
                _success.Write(header + "<think>" + completion.Text);
                successes++;
            }
        }
    }

    public void Dispose()
    {
        _all.Dispose();
        _success.Dispose();
    }
}
