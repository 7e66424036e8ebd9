using GrpoAspire.Cli;

await using var console = new CliConsole(Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.Error);
return await CliApp.RunAsync(args, console);
