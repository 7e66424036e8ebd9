using GrpoAspire.Countdown;

namespace GrpoAspire.BuiltInTasks.Nearest;

/// <summary>
/// Three numbers in 1..100 and a target in 1..150, uniform and seeded. Unlike Countdown's generator, the target is not
/// drawn from the reachable ones: some are out of reach, and there the answer is the closest value any equation gives.
/// </summary>
public sealed class NearestGenerator(ulong seed)
{
    private readonly SeededRandom _random = new(seed);

    public CountdownTask Next()
    {
        var nums = new long[3];
        for (var i = 0; i < nums.Length; i++)
        {
            nums[i] = _random.Next(1, 101);
        }

        return new CountdownTask(nums, _random.Next(1, 151));
    }
}
