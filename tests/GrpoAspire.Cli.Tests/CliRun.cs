using System.Text;
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
        using var output = new MemoryStream();
        using var error = new StringWriter();
        int exitCode;
        await using (var console = new CliConsole(new MemoryStream(Encoding.UTF8.GetBytes(stdin)), output, error))
        {
            exitCode = await CliApp.RunAsync(args, console);
        }

        return new CliResult(exitCode, Encoding.UTF8.GetString(output.ToArray()), error.ToString());
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
