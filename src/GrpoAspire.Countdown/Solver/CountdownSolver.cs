using System.Numerics;
using GrpoAspire.Countdown.Arithmetic;

namespace GrpoAspire.Countdown.Solver;

/// <summary>
/// Exhaustive Countdown solver: repeatedly replaces two of the remaining values by their sum,
/// difference, product or quotient (both orders for - and /), which visits every order, operator and
/// bracketing of the numbers. Exact rational arithmetic; every number is used exactly once.
/// </summary>
public static class CountdownSolver
{
    private readonly record struct Term(Rational Value, string Text, bool IsCompound);

    /// <summary>One equation that reaches the task's target (e.g. <c>80 + (70 / 14)</c>), or null.</summary>
    public static string? Solve(CountdownTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var terms = task.Nums.Select(n => new Term(Rational.FromInteger(n), n.ToString(System.Globalization.CultureInfo.InvariantCulture), false)).ToList();
        var target = new BigInteger(task.Target);
        string? found = null;
        Search(terms, term =>
        {
            if (term.Value.IsInteger && term.Value.Numerator == target)
            {
                found = term.Text;
                return true;
            }

            return false;
        });
        return found;
    }

    /// <summary>Every integer in [min, max] that some equation over all of <paramref name="nums"/> reaches.</summary>
    public static SortedSet<long> ReachableIntegers(IReadOnlyList<long> nums, long min, long max)
    {
        _ = new CountdownTask(nums, 0); // validates the numbers
        var reached = new SortedSet<long>();
        var terms = nums.Select(n => new Term(Rational.FromInteger(n), string.Empty, false)).ToList();
        Search(terms, term =>
        {
            if (term.Value.IsInteger && term.Value.Numerator >= min && term.Value.Numerator <= max)
            {
                reached.Add((long)term.Value.Numerator);
            }

            return false;
        }, buildText: false);
        return reached;
    }

    /// <summary>
    /// How close any equation over all of <paramref name="nums"/> (each once, + - * / and parentheses) comes to
    /// <paramref name="target"/>: 0 when the target is reachable, else the smallest |value - target|, exactly.
    /// </summary>
    public static Rational NearestDistance(IReadOnlyList<long> nums, long target)
    {
        _ = new CountdownTask(nums, target); // validates the numbers
        var goal = Rational.FromInteger(target);
        Rational? best = null;
        var terms = nums.Select(n => new Term(Rational.FromInteger(n), string.Empty, false)).ToList();
        Search(terms, term =>
        {
            var distance = Rational.Abs(term.Value - goal);
            if (best is not { } current || distance.CompareTo(current) < 0)
            {
                best = distance;
            }

            return distance.IsZero;
        }, buildText: false);
        return best!.Value;
    }

    /// <summary>Depth-first over pair merges; stops when <paramref name="onComplete"/> returns true.</summary>
    private static bool Search(List<Term> terms, Func<Term, bool> onComplete, bool buildText = true)
    {
        if (terms.Count == 1)
        {
            return onComplete(terms[0]);
        }

        for (var i = 0; i < terms.Count; i++)
        {
            for (var j = i + 1; j < terms.Count; j++)
            {
                var rest = new List<Term>(terms.Count - 1);
                for (var k = 0; k < terms.Count; k++)
                {
                    if (k != i && k != j)
                    {
                        rest.Add(terms[k]);
                    }
                }

                foreach (var merged in Merges(terms[i], terms[j], buildText))
                {
                    rest.Add(merged);
                    if (Search(rest, onComplete, buildText))
                    {
                        return true;
                    }

                    rest.RemoveAt(rest.Count - 1);
                }
            }
        }

        return false;
    }

    private static IEnumerable<Term> Merges(Term a, Term b, bool buildText)
    {
        yield return Combine(a, '+', b, a.Value + b.Value, buildText);
        yield return Combine(a, '*', b, a.Value * b.Value, buildText);
        yield return Combine(a, '-', b, a.Value - b.Value, buildText);
        yield return Combine(b, '-', a, b.Value - a.Value, buildText);
        if (!b.Value.IsZero)
        {
            yield return Combine(a, '/', b, a.Value / b.Value, buildText);
        }

        if (!a.Value.IsZero)
        {
            yield return Combine(b, '/', a, b.Value / a.Value, buildText);
        }
    }

    private static Term Combine(Term left, char op, Term right, Rational value, bool buildText)
    {
        if (!buildText)
        {
            return new Term(value, string.Empty, true);
        }

        return new Term(value, $"{Wrap(left)} {op} {Wrap(right)}", true);
    }

    private static string Wrap(Term term) => term.IsCompound ? $"({term.Text})" : term.Text;
}
