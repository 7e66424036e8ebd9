using GrpoAspire.Countdown;

namespace GrpoAspire.Benchmarks.Reward.Corpus;

/// <summary>The malformed, operator and edge-case completions of the corpus.</summary>
internal sealed partial class CorpusGenerator
{
    private CorpusLine Malformed(CountdownTask task, string solution)
    {
        var think = _reasoning.Think(task, _random.Next(1, 4)).Append(_reasoning.Conclusion(solution, task.Target, true));
        var t = think.ToString();
        var completion = _random.Next(0, 10) switch
        {
            0 => $"{t}\n<answer>{solution}</answer>", // </think> missing
            1 => $"{t}\n</think>\nThe answer is {solution}.", // no answer tags
            2 => $"{t}\n</think>\n<answer>{solution}", // unclosed answer
            3 => $"{t}\n<think>\nWait, let me start over.\n</think>\n<answer>{solution}</answer>", // nested <think>
            4 => $"{t}\n</think>\n<answer>{solution}</answer>\nI hope this helps!", // text after the answer
            5 => $"{t}\n</think>\n\n<answer>{solution}</answer>", // blank line before the answer
            6 => $"{t}\n</think>\n<answer>\n{solution}\n</answer>", // answer over several lines
            7 => $"{t} <answer>{Expression.Random(_random, task.Nums).Text}</answer>\n</think>\n<answer>{solution}</answer>",
            8 => t[..(t.Length / 2)], // truncated by the token budget
            _ => string.Empty,
        };
        return Line("malformed", completion, task);
    }

    /// <summary>
    /// Answers that Python's eval scores correct but use ** or // or a decimal literal, which Countdown does
    /// not allow; the task is built around the answer so the seed's check passes.
    /// </summary>
    private CorpusLine Operators(CountdownTask task)
    {
        var a = task.Nums[0];
        var b = task.Nums[1];
        var (answer, nums, target) = _random.Next(0, 3) switch
        {
            0 => ($"{a} ** 2 - {b}", new long[] { a, 2, b }, (a * a) - b),
            1 => ($"{Math.Max(a, b)} // {Math.Min(a, b)} + {task.Nums[^1]}", new long[] { a, b, task.Nums[^1] },
                (Math.Max(a, b) / Math.Min(a, b)) + task.Nums[^1]),
            _ => ($"1.5 * {2 * a} - {b}", new long[] { 1, 5, 2 * a, b }, (3 * a) - b),
        };
        var operatorTask = new CountdownTask(nums, target);
        var think = _reasoning.Think(operatorTask, _random.Next(1, 3)).Append(_reasoning.Conclusion(answer, target, true));
        return Line("operators", WellFormed(think.ToString(), answer), operatorTask);
    }

    private CorpusLine Edge(CountdownTask task, string solution)
    {
        var think = _reasoning.Think(task, _random.Next(1, 3));
        var t = think.ToString();
        var a = task.Nums[0];
        var (completion, edgeTask) = _random.Next(0, 9) switch
        {
            0 => (WellFormed(t, $"{solution} = {task.Target}"), task), // the target in the answer
            1 => (WellFormed(t, solution.Replace("*", "×", StringComparison.Ordinal).Replace("/", "÷", StringComparison.Ordinal)), task),
            2 => (WellFormed(t, $"{a} / ({a} - {a})"), new CountdownTask([a, a, a], task.Target)), // division by zero
            3 => (WellFormed(t, "0" + solution), task), // a leading zero: Python's SyntaxError
            4 => (WellFormed(t, $"{a}({task.Nums[1]} + {task.Nums[^1]})"), task), // implicit product
            5 => (WellFormed(t, $"+({solution})"), task), // unary plus
            6 => (WellFormed(t + " → ≈ the target ✓ (ça marche)", solution), task), // non-ASCII thinking
            7 => (WellFormed(t + $" Note {a} < {task.Target} and <b>bold</b> text.", solution), task), // '<' in thinking
            _ => (WellFormed(t, $"\t {solution}  \u00a0"), task), // padded with Python whitespace
        };
        return Line("edge", completion, edgeTask);
    }
}
