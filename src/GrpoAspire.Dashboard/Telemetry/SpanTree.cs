namespace GrpoAspire.Dashboard.Telemetry;

/// <summary>
/// Orders the spans of a trace for a waterfall: depth first from the roots, siblings by start time. Iterative
/// and visit-once, because spans come from any sender: a chain of 20,000 spans must not overflow the stack
/// and a parent cycle must not loop. Spans a cycle leaves unreachable are appended as roots.
/// </summary>
internal static class SpanTree
{
    public static IReadOnlyList<(SpanRecord Span, int Depth)> Order(IReadOnlyList<SpanRecord> spans)
    {
        var ids = spans.Select(span => span.SpanId).ToHashSet(StringComparer.Ordinal);
        var children = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var roots = new List<int>();
        for (var i = 0; i < spans.Count; i++)
        {
            var parent = spans[i].ParentSpanId;
            if (parent is null || !ids.Contains(parent) || parent == spans[i].SpanId)
            {
                roots.Add(i);
                continue;
            }

            if (!children.TryGetValue(parent, out var list))
            {
                list = [];
                children.Add(parent, list);
            }

            list.Add(i);
        }

        var result = new List<(SpanRecord, int)>(spans.Count);
        var visited = new bool[spans.Count];
        var stack = new Stack<(int Index, int Depth)>();
        foreach (var root in ByStart(spans, roots))
        {
            Visit(spans, children, visited, stack, result, root);
        }

        // Whatever is left sits on a parent cycle: show it rather than hide it.
        for (var i = 0; i < spans.Count; i++)
        {
            if (!visited[i])
            {
                Visit(spans, children, visited, stack, result, i);
            }
        }

        return result;
    }

    private static void Visit(
        IReadOnlyList<SpanRecord> spans,
        Dictionary<string, List<int>> children,
        bool[] visited,
        Stack<(int Index, int Depth)> stack,
        List<(SpanRecord, int)> result,
        int root)
    {
        stack.Push((root, 0));
        while (stack.TryPop(out var item))
        {
            if (visited[item.Index])
            {
                continue;
            }

            visited[item.Index] = true;
            result.Add((spans[item.Index], item.Depth));
            if (children.TryGetValue(spans[item.Index].SpanId, out var list))
            {
                // Pushed latest first, so the earliest child is visited next.
                foreach (var child in ByStart(spans, list).Reverse())
                {
                    stack.Push((child, item.Depth + 1));
                }
            }
        }
    }

    private static IEnumerable<int> ByStart(IReadOnlyList<SpanRecord> spans, List<int> indexes) =>
        indexes.OrderBy(index => spans[index].StartUnixNano).ThenBy(index => index);
}
