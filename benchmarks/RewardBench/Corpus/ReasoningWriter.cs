using System.Globalization;
using System.Text;
using GrpoAspire.Countdown;

namespace GrpoAspire.Benchmarks.Reward.Corpus;

/// <summary>
/// Writes the "thinking" part of a completion the way small R1-style models do after the
/// "&lt;think&gt;" prefill: restate the task, try a few pairs of numbers, conclude.
/// </summary>
internal sealed class ReasoningWriter(SeededRandom random)
{
    private static readonly string[] Openings =
    [
        " We need to use the numbers {0} exactly once each to make {1}.",
        " Let's see. The numbers are {0} and the target is {1}.",
        " I have to reach {1} using {0}, each number once, with + - * /.",
        " Okay, so the goal is {1} and I can use {0}.",
    ];

    private static readonly string[] Reactions =
    [
        " That's too far from {0}.",
        " Hmm, not helpful.",
        " Then I still need the other numbers.",
        " That doesn't get me to {0}.",
        " Close, but not quite.",
        " Maybe.",
    ];

    public string Opening(CountdownTask task) =>
        Format(Openings[random.Next(0, Openings.Length)], task.NumsAsPythonList, task.Target);

    /// <summary>One trial line: "Let me try 80 - 14 = 66. That's too far from 85."</summary>
    public string Trial(CountdownTask task)
    {
        // Two different numbers of the task (every generated task has at least three).
        var i = random.Next(0, task.Nums.Count);
        var a = task.Nums[i];
        var b = task.Nums[(i + random.Next(1, task.Nums.Count)) % task.Nums.Count];
        var trial = Expression.Combine(Expression.Number(a), Expression.RandomOperator(random), Expression.Number(b))
            ?? Expression.Combine(Expression.Number(a), '+', Expression.Number(b))!.Value;
        var value = trial.Value.IsInteger
            ? trial.Value.Numerator.ToString(CultureInfo.InvariantCulture)
            : trial.Value.ToDouble().ToString("0.###", CultureInfo.InvariantCulture);
        var comparison = random.Next(0, 5) == 0 ? $" Since {Math.Min(a, b)} < {Math.Max(a, b)}, order matters." : string.Empty;
        return $"\nLet me try {trial.Text} = {value}.{comparison}"
            + Format(Reactions[random.Next(0, Reactions.Length)], task.Target, null);
    }

    /// <summary>An opening and <paramref name="trials"/> trial lines.</summary>
    public StringBuilder Think(CountdownTask task, int trials)
    {
        var text = new StringBuilder(Opening(task));
        for (var i = 0; i < trials; i++)
        {
            text.Append(Trial(task));
        }

        return text;
    }

    /// <summary>Trial lines until the text is at least <paramref name="length"/> characters (long completions).</summary>
    public StringBuilder ThinkAtLength(CountdownTask task, int length)
    {
        var text = new StringBuilder(Opening(task));
        while (text.Length < length)
        {
            text.Append(Trial(task));
            if (random.Next(0, 6) == 0)
            {
                text.Append("\n\nWait, let me reconsider the whole approach and go through the pairs again.");
            }
        }

        return text;
    }

    public string Conclusion(string equation, long target, bool believesCorrect) => believesCorrect
        ? $"\nSo {equation} = {target}. That works!"
        : $"\nI'm not sure, but {equation} might be close enough.";

    private static string Format(string template, object first, object? second) =>
        string.Format(CultureInfo.InvariantCulture, template, first, second);
}
