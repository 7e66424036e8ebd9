using System.Text;
using GrpoAspire.Cli;

// Buffered UTF-8 standard streams (Console.Out flushes on every write, far too slow for 200k lines).
var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
using var stdin = new StreamReader(Console.OpenStandardInput(), utf8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
await using var stdout = new StreamWriter(Console.OpenStandardOutput(), utf8, bufferSize: 1 << 16);
return await CliApp.RunAsync(args, new CliConsole(stdin, stdout, Console.Error));
