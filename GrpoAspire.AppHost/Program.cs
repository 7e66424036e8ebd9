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

var options = LoopbackDashboard.Options(arguments.AspireArguments);
var builder = DistributedApplication.CreateBuilder(options);
// Aspire.Hosting.Testing turns the dashboard off in this same options object.
if (builder.ExecutionContext.IsRunMode && !options.DisableDashboard && LoopbackDashboard.AddressInUse() is { } taken)
{
    Console.Error.WriteLine($"apphost: the dashboard cannot listen on {taken}: the address is in use; is another AppHost running? "
        + "Stop it, or give this one other addresses (ASPNETCORE_URLS, ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL, ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL)");
    return 1;
}

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

// Before DCP starts, so that everything it starts carries the watchdog's mark. Not under Aspire.Hosting.Testing (which
// turns the dashboard off): the test process hosts the app there, and stops it.
var watchdog = builder.ExecutionContext.IsRunMode && !options.DisableDashboard ? AppHostWatchdog.Start() : null;
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

watchdog?.Stopped();

// Publishing (--publisher manifest) and --keep-running (stopped by Ctrl+C) end well without the trainer's verdict.
return builder.ExecutionContext.IsPublishMode || !arguments.ExitWhenDone ? 0 : outcome.ExitCode;
