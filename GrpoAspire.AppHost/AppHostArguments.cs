using System.Globalization;

namespace GrpoAspire.AppHost;

/// <summary><c>dotnet run --project GrpoAspire.AppHost -- [--recipe FILE] [--max-steps N] [--keep-running] ...</c></summary>
public sealed record AppHostArguments
{
    public const string Usage = """
        Usage: dotnet run --project GrpoAspire.AppHost -- [options]

        Starts redis-server, the reward service, the trainer and the generation replicas on loopback, with the dashboard,
        runs the recipe, prints the held-out success before and after (when the recipe evaluates) and the run folder,
        then stops everything: exit code 0 when training finished, 1 when it failed.
        With no options: GRPO of the embedded countdown-tiny warm start (recipes/countdown-tiny-cpu.yaml).

        Options:
          --recipe FILE       training recipe (default: recipes/countdown-tiny-cpu.yaml)
          --max-steps N       stop training after N steps instead of the recipe's max_steps
          --keep-running      keep the services and the dashboard up after training, until Ctrl+C
          --exit-when-done    exit once training is over (the default; kept for scripts)
          --replicas N        generation replicas (default 1)
          --output DIR        run folder (default: runs/apphost-<time>)
          --model DIR         local Hugging Face model folder instead of the recipe's model
          --dataset FILE      local task file instead of the recipe's dataset
          --run NAME          run name: Redis keys grpo:NAME:* (default: apphost)
          --no-dashboard      do not start the dashboard
          --dashboard-port N  web UI port (default 18888, OTLP on 18889/18890); 0 = free ports for all three
          -h, --help          this help
        """;

    public const string DefaultRecipe = "recipes/countdown-tiny-cpu.yaml";

    public string Recipe { get; init; } = DefaultRecipe;
    public int? MaxSteps { get; init; }
    public bool ExitWhenDone { get; init; } = true;
    public int Replicas { get; init; } = 1;
    public string? Output { get; init; }
    public string? Model { get; init; }
    public string? Dataset { get; init; }
    public string Run { get; init; } = "apphost";
    public bool Dashboard { get; init; } = true;
    public int DashboardPort { get; init; } = 18888;
    public bool Help { get; init; }

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with the option at fault.</summary>
    public static AppHostArguments Parse(IReadOnlyList<string> args)
    {
        var result = new AppHostArguments();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int(int min, int max)
            {
                var option = args[i];
                var text = Value();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                    ? n
                    : throw new ArgumentException($"{option} must be an integer from {min} to {max}, got '{text}'");
            }

            result = args[i] switch
            {
                "--recipe" => result with { Recipe = Value() },
                "--max-steps" => result with { MaxSteps = Int(1, 10_000_000) },
                "--exit-when-done" => result with { ExitWhenDone = true },
                "--keep-running" => result with { ExitWhenDone = false },
                "--replicas" => result with { Replicas = Int(1, 64) },
                "--output" => result with { Output = Value() },
                "--model" => result with { Model = Value() },
                "--dataset" => result with { Dataset = Value() },
                "--run" => result with { Run = Value() },
                "--no-dashboard" => result with { Dashboard = false },
                "--dashboard-port" => result with { DashboardPort = Int(0, 65535) },
                "-h" or "--help" => result with { Help = true },
                var other => throw new ArgumentException($"unknown option '{other}'"),
            };
        }

        return result;
    }
}
