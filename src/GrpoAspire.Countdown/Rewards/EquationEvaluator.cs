using System.Globalization;
using System.Numerics;
using GrpoAspire.Countdown.Arithmetic;

namespace GrpoAspire.Countdown.Rewards;

/// <summary>
/// Checks an answer's equation against a task the way the seed does (numbers as a multiset, allowed
/// characters, value within 1e-5) but with a parser and exact rational arithmetic instead of Python's
/// <c>eval</c>. Work is linear in the input and the evaluation never recurses.
/// </summary>
public static class EquationEvaluator
{
    /// <summary>Longest digit run that can still equal an int64 task number (leading zeros aside).</summary>
    private const int MaxSignificantDigits = 19;

    public static EquationVerdict Check(ReadOnlySpan<char> rawEquation, CountdownTask task)
    {
        var (verdict, value) = Value(rawEquation, task.Nums);
        if (verdict != EquationVerdict.Correct)
        {
            return verdict;
        }

        return value.IsWithinTolerance(new BigInteger(task.Target))
            ? EquationVerdict.Correct
            : EquationVerdict.WrongValue;
    }

    /// <summary>
    /// The exact value of an answer that uses <paramref name="nums"/> once each with the allowed characters; any other
    /// verdict than <see cref="EquationVerdict.Correct"/> means there is no value (and says why).
    /// </summary>
    public static (EquationVerdict Verdict, Rational Value) Value(ReadOnlySpan<char> rawEquation, IReadOnlyList<long> nums)
    {
        var equation = PythonText.Strip(rawEquation);
        if (!NumbersMatch(equation, nums))
        {
            return (EquationVerdict.NumbersMismatch, default);
        }

        return CheckCharacters(equation) is { } bad ? (bad, default) : Evaluate(equation);
    }

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

            if (foundCount == expectedCount || !TryParseDigits(equation[start..i], out var number))
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

    private static bool TryParseDigits(ReadOnlySpan<char> digits, out long number)
    {
        var significant = digits.TrimStart('0');
        if (significant.IsEmpty)
        {
            number = 0;
            return true;
        }

        number = 0;
        return significant.Length <= MaxSignificantDigits
            && long.TryParse(significant, NumberStyles.None, CultureInfo.InvariantCulture, out number);
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
    /// left associativity (shunting-yard with explicit stacks: no recursion, so no stack overflow).
    /// </summary>
    internal static (EquationVerdict Verdict, Rational Value) Evaluate(ReadOnlySpan<char> equation)
    {
        var operands = new List<Rational>(CountdownTask.MaxNumbers);
        var operators = new List<Op>();
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
                            return (EquationVerdict.SyntaxError, default);
                        }

                        operands.Add(Rational.FromInteger(BigInteger.Parse(literal)));
                        expectOperand = false;
                        continue;
                    case '(':
                        operators.Add(Op.OpenParen);
                        depth++;
                        break;
                    case '-':
                        operators.Add(Op.Negate);
                        break;
                    case '+':
                        operators.Add(Op.Plus);
                        break;
                    default:
                        return (EquationVerdict.SyntaxError, default);
                }

                i++;
                continue;
            }

            if (c == ')')
            {
                if (!ReduceUntilOpenParen(operands, operators, out var failure))
                {
                    return (failure, default);
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
                return (EquationVerdict.SyntaxError, default);
            }

            while (operators.Count > 0 && operators[^1] != Op.OpenParen
                   && Precedence(operators[^1]) >= Precedence(binary))
            {
                if (!ApplyTop(operands, operators))
                {
                    return (EquationVerdict.DivisionByZero, default);
                }
            }

            operators.Add(binary);
            expectOperand = true;
            i++;
        }

        if (expectOperand)
        {
            return (EquationVerdict.SyntaxError, default);
        }

        while (operators.Count > 0)
        {
            if (operators[^1] == Op.OpenParen)
            {
                return (EquationVerdict.SyntaxError, default);
            }

            if (!ApplyTop(operands, operators))
            {
                return (EquationVerdict.DivisionByZero, default);
            }
        }

        return operands.Count == 1
            ? (EquationVerdict.Correct, operands[0])
            : (EquationVerdict.SyntaxError, default);
    }

    private static bool ReduceUntilOpenParen(List<Rational> operands, List<Op> operators, out EquationVerdict failure)
    {
        while (operators.Count > 0 && operators[^1] != Op.OpenParen)
        {
            if (!ApplyTop(operands, operators))
            {
                failure = EquationVerdict.DivisionByZero;
                return false;
            }
        }

        if (operators.Count == 0)
        {
            failure = EquationVerdict.SyntaxError;
            return false;
        }

        operators.RemoveAt(operators.Count - 1);
        failure = EquationVerdict.Correct;
        return true;
    }

    /// <summary>Pops one operator and applies it; false on division by zero.</summary>
    private static bool ApplyTop(List<Rational> operands, List<Op> operators)
    {
        var op = operators[^1];
        operators.RemoveAt(operators.Count - 1);
        var right = operands[^1];
        if (op is Op.Negate or Op.Plus)
        {
            operands[^1] = op == Op.Negate ? -right : right;
            return true;
        }

        operands.RemoveAt(operands.Count - 1);
        var left = operands[^1];
        if (op == Op.Divide && right.IsZero)
        {
            return false;
        }

        operands[^1] = op switch
        {
            Op.Add => left + right,
            Op.Subtract => left - right,
            Op.Multiply => left * right,
            Op.Divide => left / right,
            _ => throw new InvalidOperationException($"operator {op} cannot be applied"),
        };
        return true;
    }
}
