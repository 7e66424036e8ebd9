using System.Globalization;
using GrpoAspire.Countdown;
using GrpoAspire.Countdown.Arithmetic;

namespace GrpoAspire.Benchmarks.Reward.Corpus;

/// <summary>An arithmetic expression as a model would write it, with its exact value.</summary>
internal readonly record struct Expression(string Text, Rational Value, bool IsCompound)
{
    public static Expression Number(long n) =>
        new(n.ToString(CultureInfo.InvariantCulture), Rational.FromInteger(n), false);

    /// <summary>Combines two expressions; null for a division by zero.</summary>
    public static Expression? Combine(Expression left, char op, Expression right)
    {
        if (op == '/' && right.Value.IsZero)
        {
            return null;
        }

        var value = op switch
        {
            '+' => left.Value + right.Value,
            '-' => left.Value - right.Value,
            '*' => left.Value * right.Value,
            '/' => left.Value / right.Value,
            _ => throw new ArgumentException($"unknown operator '{op}'", nameof(op)),
        };
        return new Expression($"{Wrap(left)} {op} {Wrap(right)}", value, true);
    }

    /// <summary>A random expression that uses each of <paramref name="nums"/> once, in random order and grouping.</summary>
    public static Expression Random(SeededRandom random, IReadOnlyList<long> nums)
    {
        var items = nums.Select(Number).ToList();
        while (items.Count > 1)
        {
            var i = random.Next(0, items.Count);
            var left = items[i];
            items.RemoveAt(i);
            var j = random.Next(0, items.Count);
            var right = items[j];
            items.RemoveAt(j);
            items.Add(Combine(left, RandomOperator(random), right) ?? Combine(left, '+', right)!.Value);
        }

        return items[0];
    }

    public static char RandomOperator(SeededRandom random) => "+-*/"[random.Next(0, 4)];

    public override string ToString() => Text;

    private static string Wrap(Expression e) => e.IsCompound ? $"({e.Text})" : e.Text;
}
