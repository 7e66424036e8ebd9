using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using GrpoAspire.Countdown.Arithmetic;

namespace GrpoAspire.Countdown.Rewards;

/// <summary>
/// Checks an answer's equation against a task the way the seed does (numbers as a multiset, allowed
/// characters, value within 1e-5) but with a parser and exact rational arithmetic instead of Python's
/// <c>eval</c>. Work is linear in the input and the evaluation never recurses.
/// </summary>
public static class EquationEvaluator
{
    public static EquationVerdict Check(ReadOnlySpan<char> rawEquation, CountdownTask task)
    {
        var equation = PythonText.Strip(rawEquation);
        if (Prepare(equation, task.Nums) is { } rejected)
        {
            return rejected;
        }

        var outcome = EvaluateExactly(equation);
        return outcome.Verdict != EquationVerdict.Correct ? outcome.Verdict
            : outcome.IsWithinTolerance(task.Target) ? EquationVerdict.Correct : EquationVerdict.WrongValue;
    }

    /// <summary>
    /// The exact value of an answer that uses <paramref name="nums"/> once each with the allowed characters; any other
    /// verdict than <see cref="EquationVerdict.Correct"/> means there is no value (and says why).
    /// </summary>
    public static (EquationVerdict Verdict, Rational Value) Value(ReadOnlySpan<char> rawEquation, IReadOnlyList<long> nums)
    {
        var equation = PythonText.Strip(rawEquation);
        return Prepare(equation, nums) is { } rejected ? (rejected, default) : Evaluate(equation);
    }

    /// <summary>Why the stripped <paramref name="equation"/> cannot be evaluated against <paramref name="nums"/>; null when it can.</summary>
    private static EquationVerdict? Prepare(ReadOnlySpan<char> equation, IReadOnlyList<long> nums) =>
        !NumbersMatch(equation, nums) ? EquationVerdict.NumbersMismatch : CheckCharacters(equation);

    /// <summary>
    /// The seed's <c>sorted(int(n) for n in re.findall(r'\d+', eq)) == sorted(nums)</c>, on ASCII digits.
    /// </summary>
    internal static bool NumbersMatch(ReadOnlySpan<char> equation, IReadOnlyList<long> nums)
    {
        Span<long> expected = stackalloc long[CountdownTask.MaxNumbers];
        Span<long> found = stackalloc long[CountdownTask.MaxNumbers];
        var expectedCount = nums.Count;
        for (var k = 0; k < expectedCount; k++)
        {
            expected[k] = nums[k];
        }

        var foundCount = 0;
        var i = 0;
        while (i < equation.Length)
        {
            if (!char.IsAsciiDigit(equation[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < equation.Length && char.IsAsciiDigit(equation[i]))
            {
                i++;
            }

            if (foundCount == expectedCount || !TryParseAsciiDigits(equation[start..i], out var number))
            {
                return false;
            }

            found[foundCount++] = number;
        }

        if (foundCount != expectedCount)
        {
            return false;
        }

        expected[..expectedCount].Sort();
        found[..foundCount].Sort();
        return expected[..expectedCount].SequenceEqual(found[..foundCount]);
    }

    /// <summary>
    /// A non-empty run of ASCII digits (leading zeros allowed, however many) as a long, false when it is empty or above
    /// <see cref="long.MaxValue"/>: what <c>long.TryParse</c> with no styles does on such text, without its culture
    /// lookups, and stopping at the first digit past the range.
    /// </summary>
    private static bool TryParseAsciiDigits(ReadOnlySpan<char> digits, out long number)
    {
        number = 0;
        ulong value = 0;
        foreach (var c in digits)
        {
            var digit = (uint)(c - '0');
            if (value > ((ulong)long.MaxValue - digit) / 10)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        number = (long)value;
        return !digits.IsEmpty;
    }

    /// <summary>The seed's allowed pattern <c>^[\d+\-*/().\s]+$</c> plus the documented deviations.</summary>
    private static EquationVerdict? CheckCharacters(ReadOnlySpan<char> equation)
    {
        if (equation.IsEmpty)
        {
            return EquationVerdict.InvalidCharacters;
        }

        EquationVerdict? deviation = null;
        for (var i = 0; i < equation.Length; i++)
        {
            var c = equation[i];
            var allowed = char.IsAsciiDigit(c) || c is '+' or '-' or '*' or '/' or '(' or ')' or '.'
                || PythonText.IsWhitespace(c);
            if (!allowed)
            {
                return EquationVerdict.InvalidCharacters;
            }

            var next = i + 1 < equation.Length ? equation[i + 1] : '\0';
            deviation ??= c switch
            {
                '.' => EquationVerdict.DecimalLiteral,
                '*' when next == '*' => EquationVerdict.PowerOperator,
                '/' when next == '/' => EquationVerdict.FloorDivision,
                _ => null,
            };
        }

        return deviation;
    }

    private enum Op : byte
    {
        OpenParen,
        Add,
        Subtract,
        Multiply,
        Divide,
        Negate,
        Plus,
    }

    private static int Precedence(Op op) => op switch
    {
        Op.Add or Op.Subtract => 1,
        Op.Multiply or Op.Divide => 2,
        // Python binds unary +/- tighter than * and / ("factor" in its grammar).
        Op.Negate or Op.Plus => 3,
        _ => 0,
    };

    /// <summary>
    /// Evaluates digits, <c>+ - * / ( )</c> and Python's token whitespace with Python's precedence and
    /// left associativity (shunting-yard with explicit stacks: no recursion, so no stack overflow), exactly: in 64-bit
    /// fractions while every value fits (nearly every answer), else again in arbitrary precision.
    /// </summary>
    internal static (EquationVerdict Verdict, Rational Value) Evaluate(ReadOnlySpan<char> equation)
    {
        var outcome = EvaluateExactly(equation);
        return (outcome.Verdict, outcome.Verdict == EquationVerdict.Correct ? outcome.Value : default);
    }

    /// <summary>The evaluation in 64-bit fractions, or in arbitrary precision when a value leaves them.</summary>
    private static Outcome EvaluateExactly(ReadOnlySpan<char> equation)
    {
        var (verdict, small, outOfRange) = Evaluate<SmallRational>(equation);
        if (!outOfRange)
        {
            return new Outcome(verdict, small, default);
        }

        var (exactVerdict, exact, _) = Evaluate<ExactRational>(equation);
        return new Outcome(exactVerdict, null, exact.Value);
    }

    /// <summary>A verdict and, when it is <see cref="EquationVerdict.Correct"/>, the value: small when it fit 64 bits, else exact.</summary>
    private readonly record struct Outcome(EquationVerdict Verdict, SmallRational? Small, Rational Exact)
    {
        public Rational Value => Small?.ToRational() ?? Exact;

        public bool IsWithinTolerance(long target) =>
            Small is { } small ? small.IsWithinTolerance(target) : Exact.IsWithinTolerance(new BigInteger(target));
    }

    /// <summary>
    /// The evaluation in number type <typeparamref name="T"/>; <c>OutOfRange</c> when a literal or a result does not
    /// fit it (the verdict and value then mean nothing).
    /// </summary>
    private static (EquationVerdict Verdict, T Value, bool OutOfRange) Evaluate<T>(ReadOnlySpan<char> equation)
        where T : struct, IEquationNumber<T>
    {
        // An answer that passed the numbers check has at most MaxNumbers operands; deeper nesting than the buffers hold
        // (any other input) moves a stack to the heap.
        var operandBuffer = default(OperandBuffer<T>);
        var operands = new ValueStack<T>(operandBuffer);
        var operators = new ValueStack<Op>(stackalloc Op[32]);
        var expectOperand = true;
        var depth = 0;
        var i = 0;
        while (i < equation.Length)
        {
            var c = equation[i];
            // Inside brackets Python joins lines, so a carriage return is whitespace there (and only there).
            if (PythonText.IsTokenSeparator(c) || (c == '\r' && depth > 0))
            {
                i++;
                continue;
            }

            if (expectOperand)
            {
                switch (c)
                {
                    case >= '0' and <= '9':
                        var start = i;
                        while (i < equation.Length && char.IsAsciiDigit(equation[i]))
                        {
                            i++;
                        }

                        var literal = equation[start..i];
                        // Python 3 rejects leading zeros ("05") unless the literal is all zeros ("00").
                        if (literal.Length > 1 && literal[0] == '0' && literal.ContainsAnyExcept('0'))
                        {
                            return (EquationVerdict.SyntaxError, default, false);
                        }

                        if (!T.TryParse(literal, out var number))
                        {
                            return (default, default, true);
                        }

                        operands.Push(number);
                        expectOperand = false;
                        continue;
                    case '(':
                        operators.Push(Op.OpenParen);
                        depth++;
                        break;
                    case '-':
                        operators.Push(Op.Negate);
                        break;
                    case '+':
                        operators.Push(Op.Plus);
                        break;
                    default:
                        return (EquationVerdict.SyntaxError, default, false);
                }

                i++;
                continue;
            }

            if (c == ')')
            {
                if (ReduceUntilOpenParen(ref operands, ref operators) is not Failure.None and var failure)
                {
                    return Failed<T>(failure);
                }

                depth--;
                i++;
                continue;
            }

            var op = c switch
            {
                '+' => Op.Add,
                '-' => Op.Subtract,
                '*' => Op.Multiply,
                '/' => Op.Divide,
                _ => (Op?)null,
            };
            if (op is not { } binary)
            {
                // "2 3", "2 (3)" (a call in Python: TypeError) and the like.
                return (EquationVerdict.SyntaxError, default, false);
            }

            while (operators.Count > 0 && operators.Top != Op.OpenParen
                   && Precedence(operators.Top) >= Precedence(binary))
            {
                if (ApplyTop(ref operands, ref operators) is not Failure.None and var failure)
                {
                    return Failed<T>(failure);
                }
            }

            operators.Push(binary);
            expectOperand = true;
            i++;
        }

        if (expectOperand)
        {
            return (EquationVerdict.SyntaxError, default, false);
        }

        while (operators.Count > 0)
        {
            if (operators.Top == Op.OpenParen)
            {
                return (EquationVerdict.SyntaxError, default, false);
            }

            if (ApplyTop(ref operands, ref operators) is not Failure.None and var failure)
            {
                return Failed<T>(failure);
            }
        }

        return operands.Count == 1
            ? (EquationVerdict.Correct, operands.Top, false)
            : (EquationVerdict.SyntaxError, default, false);
    }

    /// <summary>Why reducing the stacks stopped.</summary>
    private enum Failure : byte
    {
        None,
        SyntaxError,
        DivisionByZero,
        /// <summary>A result does not fit the number type: evaluate again in a wider one.</summary>
        OutOfRange,
    }

    private static (EquationVerdict Verdict, T Value, bool OutOfRange) Failed<T>(Failure failure)
        where T : struct =>
        (failure == Failure.SyntaxError ? EquationVerdict.SyntaxError : EquationVerdict.DivisionByZero, default, failure == Failure.OutOfRange);

    private static Failure ReduceUntilOpenParen<T>(ref ValueStack<T> operands, ref ValueStack<Op> operators)
        where T : struct, IEquationNumber<T>
    {
        while (operators.Count > 0 && operators.Top != Op.OpenParen)
        {
            if (ApplyTop(ref operands, ref operators) is not Failure.None and var failure)
            {
                return failure;
            }
        }

        if (operators.Count == 0)
        {
            return Failure.SyntaxError;
        }

        operators.Pop();
        return Failure.None;
    }

    /// <summary>Pops one operator and applies it.</summary>
    private static Failure ApplyTop<T>(ref ValueStack<T> operands, ref ValueStack<Op> operators)
        where T : struct, IEquationNumber<T>
    {
        var op = operators.Pop();
        var right = operands.Top;
        if (op is Op.Negate or Op.Plus)
        {
            operands.Top = op == Op.Negate ? right.Negated() : right;
            return Failure.None;
        }

        operands.Pop();
        if (op == Op.Divide && right.IsZero)
        {
            return Failure.DivisionByZero;
        }

        if (!T.TryCombine(op, operands.Top, right, out var result))
        {
            return Failure.OutOfRange;
        }

        operands.Top = result;
        return Failure.None;
    }

    /// <summary>Room for the operands of any answer that passed the numbers check, on the evaluating thread's stack.</summary>
    [InlineArray(CountdownTask.MaxNumbers + 2)]
    private struct OperandBuffer<T>
    {
        private T _first;
    }

    /// <summary>A stack in a caller's buffer (no allocation) that moves to a heap array only when it outgrows it.</summary>
    private ref struct ValueStack<T>(Span<T> buffer)
    {
        private Span<T> _items = buffer;

        public int Count { get; private set; }

        /// <summary>The top item (the stack must not be empty).</summary>
        public readonly ref T Top => ref _items[Count - 1];

        public void Push(T item)
        {
            if (Count == _items.Length)
            {
                var larger = new T[Math.Max(_items.Length * 2, 8)];
                _items.CopyTo(larger);
                _items = larger;
            }

            _items[Count++] = item;
        }

        public T Pop() => _items[--Count];
    }

    /// <summary>A number type <see cref="Evaluate{T}"/> computes in, exactly, or reporting that a value left its range.</summary>
    private interface IEquationNumber<TSelf>
        where TSelf : struct, IEquationNumber<TSelf>
    {
        bool IsZero { get; }

        /// <summary>An ASCII digit run (Python already checked: no leading zeros); false when it does not fit.</summary>
        static abstract bool TryParse(ReadOnlySpan<char> digits, out TSelf value);

        /// <summary>A binary operator on two values (a divisor is never zero); false when the result does not fit.</summary>
        static abstract bool TryCombine(Op op, TSelf left, TSelf right, out TSelf result);

        TSelf Negated();
    }

    /// <summary>Arbitrary precision: every value fits.</summary>
    private readonly record struct ExactRational(Rational Value) : IEquationNumber<ExactRational>
    {
        public bool IsZero => Value.IsZero;

        public static bool TryParse(ReadOnlySpan<char> digits, out ExactRational value)
        {
            value = new(Rational.FromInteger(BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture)));
            return true;
        }

        public static bool TryCombine(Op op, ExactRational left, ExactRational right, out ExactRational result)
        {
            result = new(op switch
            {
                Op.Add => left.Value + right.Value,
                Op.Subtract => left.Value - right.Value,
                Op.Multiply => left.Value * right.Value,
                Op.Divide => left.Value / right.Value,
                _ => throw new InvalidOperationException($"operator {op} is not binary"),
            });
            return true;
        }

        public ExactRational Negated() => new(-Value);
    }

    /// <summary>
    /// A reduced fraction of 64-bit integers with a positive denominator; operations compute in 128 bits and report a
    /// result that does not reduce back into 64 bits (its numerator's magnitude below 2^63) as out of range.
    /// </summary>
    private readonly record struct SmallRational(long Numerator, long Denominator) : IEquationNumber<SmallRational>
    {
        public bool IsZero => Numerator == 0;

        public static bool TryParse(ReadOnlySpan<char> digits, out SmallRational value)
        {
            var ok = TryParseAsciiDigits(digits, out var number);
            value = new(number, 1);
            return ok;
        }

        public static bool TryCombine(Op op, SmallRational left, SmallRational right, out SmallRational result)
        {
            Int128 a = left.Numerator, b = left.Denominator, c = right.Numerator, d = right.Denominator;
            var (numerator, denominator) = op switch
            {
                Op.Add => b == d ? (a + c, b) : ((a * d) + (c * b), b * d),
                Op.Subtract => b == d ? (a - c, b) : ((a * d) - (c * b), b * d),
                Op.Multiply => (a * c, b * d),
                Op.Divide => c < 0 ? (-(a * d), -(b * c)) : (a * d, b * c),
                _ => throw new InvalidOperationException($"operator {op} is not binary"),
            };
            return TryReduce(numerator, denominator, out result);
        }

        public SmallRational Negated() => new(-Numerator, Denominator);

        /// <summary>|n/d - target| &lt; 1e-5, the seed's tolerance, as <see cref="Rational.IsWithinTolerance"/> decides it.</summary>
        public bool IsWithinTolerance(long target) =>
            Int128.Abs(Numerator - ((Int128)target * Denominator)) * 100_000 < Denominator;

        public Rational ToRational() => Rational.Create(Numerator, Denominator);

        private static bool TryReduce(Int128 numerator, Int128 denominator, out SmallRational result)
        {
            if (numerator > long.MinValue && numerator <= long.MaxValue && denominator <= long.MaxValue)
            {
                // Both already fit (nearly every result): reduce with the processor's 64-bit division, not Int128's.
                var (n, d) = ((long)numerator, (long)denominator);
                var common = (long)Gcd((ulong)Math.Abs(n), (ulong)d);
                result = common > 1 ? new(n / common, d / common) : new(n, d);
                return true;
            }

            var divisor = Gcd(Int128.Abs(numerator), denominator);
            if (divisor > 1)
            {
                (numerator, denominator) = (numerator / divisor, denominator / divisor);
            }

            var fits = numerator > long.MinValue && numerator <= long.MaxValue && denominator <= long.MaxValue;
            result = fits ? new((long)numerator, (long)denominator) : default;
            return fits;
        }

        private static T Gcd<T>(T a, T b)
            where T : IBinaryInteger<T>
        {
            while (b != T.Zero)
            {
                (a, b) = (b, a % b);
            }

            return a;
        }
    }
}
