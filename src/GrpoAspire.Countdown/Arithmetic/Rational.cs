using System.Globalization;
using System.Numerics;

namespace GrpoAspire.Countdown.Arithmetic;

/// <summary>
/// An exact fraction, always reduced with a positive denominator. Countdown answers are checked with
/// it instead of floating point, so "exact" means exact.
/// </summary>
public readonly record struct Rational
{
    private Rational(BigInteger numerator, BigInteger denominator)
    {
        Numerator = numerator;
        Denominator = denominator;
    }

    public BigInteger Numerator { get; }

    public BigInteger Denominator { get; }

    public static Rational FromInteger(BigInteger value) => new(value, BigInteger.One);

    public static Rational Create(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero)
        {
            throw new DivideByZeroException("a rational's denominator cannot be zero");
        }

        if (denominator.Sign < 0)
        {
            numerator = -numerator;
            denominator = -denominator;
        }

        var gcd = BigInteger.GreatestCommonDivisor(numerator, denominator);
        return gcd.IsOne ? new(numerator, denominator) : new(numerator / gcd, denominator / gcd);
    }

    public bool IsZero => Numerator.IsZero;

    public bool IsInteger => Denominator.IsOne;

    public static Rational operator +(Rational a, Rational b) =>
        a.Denominator == b.Denominator
            ? Create(a.Numerator + b.Numerator, a.Denominator)
            : Create((a.Numerator * b.Denominator) + (b.Numerator * a.Denominator), a.Denominator * b.Denominator);

    public static Rational operator -(Rational a, Rational b) => a + (-b);

    public static Rational operator -(Rational a) => new(-a.Numerator, a.Denominator);

    public static Rational operator *(Rational a, Rational b) =>
        Create(a.Numerator * b.Numerator, a.Denominator * b.Denominator);

    /// <summary>Divides; <see cref="DivideByZeroException"/> when <paramref name="b"/> is zero.</summary>
    public static Rational operator /(Rational a, Rational b) =>
        b.IsZero
            ? throw new DivideByZeroException("division by zero")
            : Create(a.Numerator * b.Denominator, a.Denominator * b.Numerator);

    /// <summary>True when |this - target| &lt; 1e-5, computed exactly (the seed's tolerance).</summary>
    public bool IsWithinTolerance(BigInteger target)
    {
        // |n/d - t| < 1/100000  <=>  |n - t*d| * 100000 < d   (d > 0)
        var difference = BigInteger.Abs(Numerator - (target * Denominator));
        return difference * 100_000 < Denominator;
    }

    public double ToDouble() => (double)Numerator / (double)Denominator;

    public static Rational Abs(Rational value) => value.Numerator.Sign < 0 ? -value : value;

    /// <summary>Orders by value (denominators are positive).</summary>
    public int CompareTo(Rational other) => (Numerator * other.Denominator).CompareTo(other.Numerator * Denominator);

    public override string ToString() =>
        IsInteger
            ? Numerator.ToString(CultureInfo.InvariantCulture)
            : $"{Numerator.ToString(CultureInfo.InvariantCulture)}/{Denominator.ToString(CultureInfo.InvariantCulture)}";
}
