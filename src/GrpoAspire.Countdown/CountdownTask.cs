using System.Globalization;

namespace GrpoAspire.Countdown;

/// <summary>
/// One Countdown problem: combine every number of <see cref="Nums"/> exactly once with + - * / and
/// parentheses to reach <see cref="Target"/>.
/// </summary>
public sealed record CountdownTask
{
    /// <summary>The most numbers a task may hold (the dataset has 3 or 4; the game 6).</summary>
    public const int MaxNumbers = 6;

    public CountdownTask(IReadOnlyList<long> nums, long target)
        : this((nums ?? throw new ArgumentNullException(nameof(nums))) as long[] ?? nums.ToArray(), target)
    {
    }

    /// <summary>A task of a copy of <paramref name="nums"/>: what a parser reading numbers into a buffer of its own passes.</summary>
    public CountdownTask(ReadOnlySpan<long> nums, long target)
    {
        if (nums.Length == 0)
        {
            throw new ArgumentException("a Countdown task needs at least one number", nameof(nums));
        }

        if (nums.Length > MaxNumbers)
        {
            throw new ArgumentException(
                $"a Countdown task has at most {MaxNumbers} numbers, got {nums.Length}", nameof(nums));
        }

        foreach (var n in nums)
        {
            if (n < 0)
            {
                // An answer's numbers are read as unsigned digit runs, so a negative number could never match.
                throw new ArgumentException($"Countdown numbers are non-negative, got {n}", nameof(nums));
            }
        }

        Nums = nums.ToArray();
        Target = target;
    }

    public IReadOnlyList<long> Nums { get; }

    public long Target { get; }

    /// <summary>A key equal for tasks with the same numbers (in any order) and target.</summary>
    public string Key => string.Join(',', Nums.Order()) + "=" + Target.ToString(CultureInfo.InvariantCulture);

    /// <summary>The numbers as Python prints a list of ints, e.g. <c>[14, 70, 80]</c> (the seed's prompt).</summary>
    public string NumsAsPythonList =>
        "[" + string.Join(", ", Nums.Select(n => n.ToString(CultureInfo.InvariantCulture))) + "]";

    public bool Equals(CountdownTask? other) =>
        other is not null && Target == other.Target && Nums.SequenceEqual(other.Nums);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Target);
        foreach (var n in Nums)
        {
            hash.Add(n);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => $"{NumsAsPythonList} -> {Target}";
}
