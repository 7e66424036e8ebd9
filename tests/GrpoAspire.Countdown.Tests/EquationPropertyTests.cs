using System.Globalization;
using CsCheck;
using GrpoAspire.Countdown.Arithmetic;
using GrpoAspire.Countdown.Rewards;

namespace GrpoAspire.Countdown.Tests;

/// <summary>
/// Random expression trees over random numbers, printed with Python's precedence rules (parentheses only
/// where needed, optional extra ones, random spacing and unary signs), must evaluate to the value of the tree.
/// </summary>
public sealed class EquationPropertyTests
{
    private abstract record Node;

    private sealed record Leaf(long Value) : Node;

    private sealed record Binary(char Op, Node Left, Node Right) : Node;

    private sealed record Unary(char Sign, Node Operand) : Node;

    private static Gen<Node> NodeGen(int depth) =>
        depth == 0
            ? Gen.Long[0, 120].Select(v => (Node)new Leaf(v))
            : Gen.Frequency(
                (2, Gen.Long[0, 120].Select(v => (Node)new Leaf(v))),
                (5, Gen.Select(Gen.OneOf('+', '-', '*', '/'), NodeGen(depth - 1), NodeGen(depth - 1),
                    (op, l, r) => (Node)new Binary(op, l, r))),
                (1, Gen.Select(Gen.OneOf('-', '+'), NodeGen(depth - 1), (s, n) => (Node)new Unary(s, n))));

    private static int Precedence(Node node) => node switch
    {
        Binary { Op: '+' or '-' } => 1,
        Binary => 2,
        Unary => 3,
        _ => 4,
    };

    /// <summary>Prints with the fewest parentheses Python's grammar allows, plus random extra ones.</summary>
    private static string Print(Node node, SeededRandom random)
    {
        var space = random.Next(0, 3) switch { 0 => string.Empty, 1 => " ", _ => "\t " };
        var text = node switch
        {
            Leaf leaf => leaf.Value.ToString(CultureInfo.InvariantCulture),
            Unary unary => unary.Sign + space + Operand(unary.Operand, 3, parenthesizeEqual: false, random),
            Binary binary => Operand(binary.Left, Precedence(binary), parenthesizeEqual: false, random)
                + space + binary.Op + space
                // Left associativity: a right operand of equal precedence needs parentheses.
                + Operand(binary.Right, Precedence(binary), parenthesizeEqual: true, random),
            _ => throw new InvalidOperationException(),
        };
        return random.Next(0, 6) == 0 ? "(" + text + ")" : text;
    }

    private static string Operand(Node child, int parentPrecedence, bool parenthesizeEqual, SeededRandom random)
    {
        var childPrecedence = Precedence(child);
        var needs = childPrecedence < parentPrecedence || (parenthesizeEqual && childPrecedence == parentPrecedence);
        var text = Print(child, random);
        return needs ? "(" + text + ")" : text;
    }

    /// <summary>The tree's value, or null on division by zero.</summary>
    private static Rational? Evaluate(Node node) => node switch
    {
        Leaf leaf => Rational.FromInteger(leaf.Value),
        Unary unary => Evaluate(unary.Operand) is { } v ? (unary.Sign == '-' ? -v : v) : null,
        Binary binary => Evaluate(binary.Left) is { } l && Evaluate(binary.Right) is { } r
            ? binary.Op switch
            {
                '+' => l + r,
                '-' => l - r,
                '*' => l * r,
                _ => r.IsZero ? null : l / r,
            }
            : null,
        _ => throw new InvalidOperationException(),
    };

    [Fact]
    public void PrintedTreesEvaluateToTheirValue()
    {
        Gen.Select(NodeGen(4), Gen.ULong).Sample(
            pair =>
            {
                var (tree, seed) = pair;
                var text = Print(tree, new SeededRandom(seed));
                var (verdict, value) = EquationEvaluator.Evaluate(text);
                if (Evaluate(tree) is { } expected)
                {
                    Assert.Equal(EquationVerdict.Correct, verdict);
                    Assert.Equal(expected, value);
                }
                else
                {
                    Assert.Equal(EquationVerdict.DivisionByZero, verdict);
                }
            },
            iter: 20_000);
    }
}
