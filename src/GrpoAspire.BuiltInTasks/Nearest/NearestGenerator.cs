using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Solver;

namespace GrpoAspire.BuiltInTasks.Nearest;

/// <summary>
/// Three numbers in 1..100 and a target near what they can make: a value in 1..150 that some equation over the numbers
/// reaches, moved by up to <see cref="MaxOffset"/> either way (uniform and seeded). About one target in five is then
/// reached exactly; the others are a little out of reach, where the answer is the closest value any equation gives.
/// Targets drawn uniformly from 1..150 instead are 5 or more from any equation half the time, beyond what a small model's
/// search gets near.
/// </summary>
public sealed class NearestGenerator(ulong seed)
{
    public const int MaxNumber = 100;
    public const int MaxTarget = 150;
    public const int MaxOffset = 3;

    private readonly SeededRandom _random = new(seed);

    public CountdownTask Next()
    {
        while (true)
        {
            var nums = new long[3];
            for (var i = 0; i < nums.Length; i++)
            {
                nums[i] = _random.Next(1, MaxNumber + 1);
            }

            var reachable = CountdownSolver.ReachableIntegers(nums, 1, MaxTarget);
            if (reachable.Count == 0)
            {
                continue;
            }

            var target = reachable.ElementAt(_random.Next(0, reachable.Count)) + _random.Next(-MaxOffset, MaxOffset + 1);
            if (target is >= 1 and <= MaxTarget)
            {
                return new CountdownTask(nums, target);
            }
        }
    }
}
