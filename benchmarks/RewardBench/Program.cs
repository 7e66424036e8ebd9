using GrpoAspire.Benchmarks.Reward;

const string usage = """
    Usage:
      RewardBench make-corpus --count N [--seed S] [--tasks T] --output FILE
      RewardBench score --input FILE [--repeat R] [--scores-out FILE]
      RewardBench compare-catalog --input FILE
    """;

try
{
    return args.FirstOrDefault() switch
    {
        "make-corpus" => CorpusCommand.Run(new BenchArguments(args.Skip(1), "count", "seed", "tasks", "output")),
        "score" => await ScoreBenchmark.RunAsync(new BenchArguments(args.Skip(1), "input", "repeat", "scores-out")),
        "compare-catalog" => await CatalogComparison.RunAsync(new BenchArguments(args.Skip(1), "input")),
        _ => throw new ArgumentException($"unknown mode '{args.FirstOrDefault()}'"),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"RewardBench: {e.Message}");
    Console.Error.WriteLine(usage);
    return 2;
}
