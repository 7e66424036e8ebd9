using GrpoAspire.AppHost;

try
{
    var arguments = AppHostArguments.Parse(args);
    if (arguments.Help)
    {
        Console.WriteLine(AppHostArguments.Usage);
        return 0;
    }

    return await AppHostRunner.RunAsync(arguments, Console.Out);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"apphost: {e.Message}\n\n{AppHostArguments.Usage}");
    return 2;
}
