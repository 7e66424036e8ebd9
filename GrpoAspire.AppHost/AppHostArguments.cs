using System.Globalization;

namespace GrpoAspire.AppHost;

/// <summary><c>dotnet run --project GrpoAspire.AppHost -- [--recipe FILE] [--max-steps N] [--keep-running] ...</c></summary>
public sealed record AppHostArguments
{
    public const string Usage = """
        Usage: dotnet run --project GrpoAspire.AppHost -- [options]

        The .NET Aspire AppHost: starts redis-server, the reward service, the trainer and the generation replicas on
        loopback, with the Aspire Dashboard (http://127.0.0.1:18888), runs the recipe, prints the held-out success
        before and after (when the recipe evaluates) and the run folder, then stops everything and exits with the
        trainer's exit code (0 when training finished).
        With no options: GRPO of the embedded countdown-tiny warm start (recipes/countdown-tiny-cpu.yaml).

        Options:
          --recipe FILE       training recipe (default: recipes/countdown-tiny-cpu.yaml)
          --max-steps N       stop training after N steps instead of the recipe's max_steps
          --keep-running      keep the services, the dashboard and the run page up after training, until Ctrl+C
          --exit-when-done    exit once training is over (the default; kept for scripts)
          --replicas N        generation replicas (default 1)
          --output DIR        run folder (default: runs/apphost-<time>)
          --model DIR         local Hugging Face model folder instead of the recipe's model
          --dataset FILE      local task file instead of the recipe's dataset
          --run NAME          run name: Redis keys grpo:NAME:* (default: apphost)
          --reward-project F  a project (.csproj) implementing grpo.v1.RewardService, run in place of the built-in
                              reward service (e.g. samples/NearestRewardService/NearestRewardService.csproj)
          --reward-url URL    a reward service already running elsewhere (any language), e.g. http://127.0.0.1:7001:
                              the replicas score through it (gRPC, h2c for http) and no reward service is started
          -h, --help          this help

        Aspire's own options pass through: --publisher manifest --output-path FILE writes the Aspire manifest.
        Dashboard addresses: ASPNETCORE_URLS, ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL, ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL.
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
    public string? RewardProject { get; init; }
    public Uri? RewardUrl { get; init; }
    public bool Help { get; init; }

    /// <summary>Arguments for Aspire's builder (<c>--publisher</c>, <c>--output-path</c>, <c>--operation</c>).</summary>
    public IReadOnlyList<string> AspireArguments { get; init; } = [];

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
                "--reward-project" => result with { RewardProject = Value() },
                "--reward-url" => result with { RewardUrl = Url(args[i], Value()) },
                "--publisher" or "--output-path" or "--operation" => result with { AspireArguments = [.. result.AspireArguments, args[i], Value()] },
                "-h" or "--help" => result with { Help = true },
                var other => throw new ArgumentException($"unknown option '{other}'"),
            };
        }

        return result.RewardProject is not null && result.RewardUrl is not null
            ? throw new ArgumentException("--reward-project and --reward-url both name the reward service; give one")
            : result;
    }

    private static Uri Url(string option, string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.AbsolutePath == "/"
            ? url
            : throw new ArgumentException($"{option} must be an http or https address without a path, such as http://127.0.0.1:7001, got '{text}'");
}
