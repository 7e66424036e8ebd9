using System.Text.Json;

namespace GrpoAspire.Cli.Tests;

/// <summary>The outcome of one in-process <c>grpo</c> run.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public JsonElement[] Results => OutLines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
}

internal static class CliRun
{
    public static async Task<CliResult> RunAsync(string stdin, params string[] args)
    {
        using var input = new StringReader(stdin);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, new CliConsole(input, output, error));
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    public static Task<CliResult> ScoreAsync(string stdin, params string[] extraArgs) =>
        RunAsync(stdin, ["score", "--input", "-", .. extraArgs]);

    /// <summary>One input line as the score verb reads it.</summary>
    public static string Line(string completion, long[] nums, long target, object? id = null) =>
        JsonSerializer.Serialize(id is null
            ? new Dictionary<string, object> { ["completion"] = completion, ["nums"] = nums, ["target"] = target }
            : new Dictionary<string, object> { ["completion"] = completion, ["nums"] = nums, ["target"] = target, ["id"] = id });

    /// <summary>A well-formed completion (the text after the "&lt;think&gt;" prefill) answering <paramref name="equation"/>.</summary>
    public static string Completion(string equation) =>
        $" Let me try a few combinations.\n</think>\n<answer>{equation}</answer>";
}
