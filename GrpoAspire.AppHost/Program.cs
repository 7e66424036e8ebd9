using GrpoAspire.AppHost;
using GrpoAspire.AppHost.Resources;

AppHostArguments arguments;
try
{
    arguments = AppHostArguments.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"apphost: {e.Message}\n\n{AppHostArguments.Usage}");
    return 2;
}

if (arguments.Help)
{
    Console.WriteLine(AppHostArguments.Usage);
    return 0;
}

var builder = DistributedApplication.CreateBuilder(LoopbackDashboard.Options(arguments.AspireArguments));
RunSettings settings;
try
{
    settings = builder.AddGrpoResources(arguments);
}
catch (MissingToolException e)
{
    Console.Error.WriteLine($"apphost: {e.Message}");
    return 1;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"apphost: {e.Message}");
    return 2;
}

await using var app = builder.Build();
Console.WriteLine($"[apphost] run '{arguments.Run}': recipe {settings.Recipe}, run folder {settings.Output}");
var outcome = app.Services.GetRequiredService<RunOutcome>();
try
{
    await app.RunAsync();
}
catch (OperationCanceledException) when (outcome.TrainerExited.IsCompleted)
{
    // The trainer ended while other resources were still starting (they waited for it): the start was cut short.
}

// Publishing (--publisher manifest) and --keep-running (stopped by Ctrl+C) end well without the trainer's verdict.
return builder.ExecutionContext.IsPublishMode || !arguments.ExitWhenDone ? 0 : outcome.ExitCode;
